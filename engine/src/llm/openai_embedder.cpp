#include "llm/openai_embedder.hpp"

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/execution.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

#include <cmath>
#include <future>
#include <stdexcept>

#include "base/json.hpp"
#include "obs/log.hpp"

namespace parley::llm {

namespace {

using nlohmann::json;

constexpr std::size_t max_error_body_bytes = 8 * 1024;
// A float printed in JSON takes at most about 25 bytes ("-1.2345678901234567e-05, ").
constexpr std::size_t max_bytes_per_float = 32;
constexpr std::size_t response_slack_bytes = 1 << 20;

embedding_error malformed(const std::string& why) {
  return {"the embedding provider sent a malformed answer", why};
}

std::string describe(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION: return "the embedding provider could not be reached";
    case CURLE_OPERATION_TIMEDOUT: return "the embedding provider did not answer in time";
    default: return "the request to the embedding provider failed";
  }
}

std::vector<float> unit_vector(const json& values, std::size_t dimensions) {
  if (!values.is_array()) throw malformed("an embedding is not an array");
  if (values.size() != dimensions) {
    throw embedding_error("the embedding provider sent vectors of the wrong length",
                          "got " + std::to_string(values.size()) + " dimensions, configured " +
                              std::to_string(dimensions));
  }
  std::vector<float> v;
  v.reserve(dimensions);
  double norm = 0;
  for (const auto& x : values) {
    if (!x.is_number()) throw malformed("an embedding holds a value that is not a number");
    const auto f = x.get<double>();
    if (!std::isfinite(f)) throw malformed("an embedding holds a value that is not finite");
    v.push_back(static_cast<float>(f));
    norm += f * f;
  }
  if (norm > 0) {
    const auto scale = static_cast<float>(1.0 / std::sqrt(norm));
    for (auto& x : v) x *= scale;
  }
  return v;
}

// One POST /embeddings on the multi's strand, from begin() until it calls `done`
// exactly once.
class embeddings_request : public std::enable_shared_from_this<embeddings_request> {
 public:
  embeddings_request(curl_multi& multi, std::shared_ptr<const openai_embedder_settings> settings,
                     std::vector<std::string> inputs, openai_embedder::batch_done done)
      : multi_(multi),
        settings_(std::move(settings)),
        count_(inputs.size()),
        body_(openai_embeddings_body(*settings_, inputs)),
        max_response_bytes_(count_ * settings_->dimensions * max_bytes_per_float +
                            response_slack_bytes),
        done_(std::move(done)) {}

  ~embeddings_request() {
    if (headers_ != nullptr) curl_slist_free_all(headers_);
    if (easy_ != nullptr) curl_easy_cleanup(easy_);
  }

  void begin() {
    try {
      configure();
      multi_.add(easy_, [self = shared_from_this()](CURLcode code) { self->on_done(code); });
    } catch (const std::exception& e) {
      finish(std::make_exception_ptr(
          embedding_error("the request to the embedding provider failed", e.what())));
    }
  }

 private:
  void configure() {
    easy_ = curl_easy_init();
    if (easy_ == nullptr) throw std::runtime_error("curl_easy_init failed");
    std::string url = settings_->base_url;
    while (!url.empty() && url.back() == '/') url.pop_back();
    url += "/embeddings";
    const auto append = [this](const std::string& h) {
      auto* next = curl_slist_append(headers_, h.c_str());
      if (next == nullptr) throw std::runtime_error("curl_slist_append failed");
      headers_ = next;
    };
    append("Content-Type: application/json");
    if (!settings_->api_key.empty()) append("Authorization: Bearer " + settings_->api_key);
    curl_easy_setopt(easy_, CURLOPT_URL, url.c_str());
    curl_easy_setopt(easy_, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy_, CURLOPT_HTTPHEADER, headers_);
    curl_easy_setopt(easy_, CURLOPT_POSTFIELDS, body_.c_str());
    curl_easy_setopt(easy_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body_.size()));
    curl_easy_setopt(easy_, CURLOPT_WRITEFUNCTION, &embeddings_request::on_write);
    curl_easy_setopt(easy_, CURLOPT_WRITEDATA, this);
    curl_easy_setopt(easy_, CURLOPT_ERRORBUFFER, error_buffer_);
    curl_easy_setopt(easy_, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(settings_->connect_timeout.count()));
    curl_easy_setopt(easy_, CURLOPT_TIMEOUT_MS, static_cast<long>(settings_->timeout.count()));
    curl_easy_setopt(easy_, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy_, CURLOPT_TCP_KEEPALIVE, 1L);
    if (!settings_->ca_file.empty()) {
      curl_easy_setopt(easy_, CURLOPT_CAINFO, settings_->ca_file.c_str());
    }
  }

  static std::size_t on_write(char* data, std::size_t size, std::size_t count,
                              void* self) noexcept {
    auto& r = *static_cast<embeddings_request*>(self);
    const auto n = size * count;
    if (r.response_.size() + n > r.max_response_bytes_) {
      r.failure_ = "the answer is larger than " + std::to_string(r.count_) + " vectors can be";
      return CURL_WRITEFUNC_ERROR;
    }
    try {
      r.response_.append(data, n);
    } catch (...) {
      return CURL_WRITEFUNC_ERROR;
    }
    return n;
  }

  void on_done(CURLcode code) {
    long status = 0;
    curl_easy_getinfo(easy_, CURLINFO_RESPONSE_CODE, &status);
    try {
      if (!failure_.empty()) throw malformed(failure_);
      if (code != CURLE_OK) {
        throw embedding_error(describe(code),
                              error_buffer_[0] != '\0' ? error_buffer_ : curl_easy_strerror(code));
      }
      if (status < 200 || status >= 300) {
        throw embedding_error(
            "the embedding provider refused the request (HTTP " + std::to_string(status) + ")",
            response_.substr(0, max_error_body_bytes));
      }
      auto vectors = parse_openai_embeddings(response_, count_, settings_->dimensions);
      std::string().swap(response_);
      finish(nullptr, std::move(vectors));
    } catch (const embedding_error& e) {
      obs::warn("embedding_request_failed",
                {{"model", settings_->model}, {"error", e.what()}, {"detail", e.detail()}});
      finish(std::current_exception());
    }
  }

  void finish(std::exception_ptr error, embedding_vectors vectors = {}) {
    auto done = std::move(done_);
    done(error, std::move(vectors));
  }

  curl_multi& multi_;
  std::shared_ptr<const openai_embedder_settings> settings_;
  std::size_t count_;
  std::string body_;
  std::size_t max_response_bytes_;
  openai_embedder::batch_done done_;
  CURL* easy_ = nullptr;
  curl_slist* headers_ = nullptr;
  char error_buffer_[CURL_ERROR_SIZE]{};
  std::string response_;
  std::string failure_;
};

}  // namespace

std::string openai_embeddings_body(const openai_embedder_settings& s,
                                   std::span<const std::string> inputs) {
  json body = {{"model", s.model}, {"input", inputs}, {"encoding_format", "float"}};
  if (s.send_dimensions) body["dimensions"] = s.dimensions;
  return base::dump_json(body);
}

embedding_vectors parse_openai_embeddings(std::string_view body, std::size_t count,
                                          std::size_t dimensions) {
  const auto j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) throw malformed("the answer is not a JSON object");
  const auto data = j.find("data");
  if (data == j.end() || !data->is_array()) throw malformed("the answer has no \"data\" array");
  if (data->size() != count) {
    throw malformed("asked for " + std::to_string(count) + " vectors, got " +
                    std::to_string(data->size()));
  }
  embedding_vectors out(count);
  for (std::size_t i = 0; i < count; ++i) {
    const auto& item = (*data)[i];
    if (!item.is_object()) throw malformed("an item of \"data\" is not an object");
    // Servers answer in input order; "index" says so explicitly where present.
    std::size_t at = i;
    if (const auto index = item.find("index"); index != item.end()) {
      if (!index->is_number_unsigned() || index->get<std::size_t>() >= count) {
        throw malformed("an item's \"index\" is out of range");
      }
      at = index->get<std::size_t>();
    }
    if (!out[at].empty()) throw malformed("two items have the same \"index\"");
    const auto values = item.find("embedding");
    if (values == item.end()) throw malformed("an item has no \"embedding\"");
    out[at] = unit_vector(*values, dimensions);
  }
  return out;
}

openai_embedder::openai_embedder(curl_multi& multi, openai_embedder_settings settings)
    : multi_(multi),
      settings_(std::make_shared<const openai_embedder_settings>(std::move(settings))) {}

std::vector<std::vector<std::string>> openai_embedder::batches(std::vector<std::string> texts,
                                                               embedding_purpose purpose) const {
  const auto& prefix =
      purpose == embedding_purpose::query ? settings_->query_prefix : settings_->document_prefix;
  std::vector<std::vector<std::string>> out;
  for (auto& t : texts) {
    if (out.empty() || out.back().size() == settings_->batch_size) out.emplace_back();
    out.back().push_back(prefix.empty() ? std::move(t) : prefix + t);
  }
  return out;
}

void openai_embedder::start(std::vector<std::string> inputs, batch_done done) {
  auto request =
      std::make_shared<embeddings_request>(multi_, settings_, std::move(inputs), std::move(done));
  asio::post(multi_.strand(), [request] { request->begin(); });
}

asio::awaitable<embedding_vectors> openai_embedder::embed(std::vector<std::string> texts,
                                                          embedding_purpose purpose) {
  embedding_vectors out;
  out.reserve(texts.size());
  for (auto& batch : batches(std::move(texts), purpose)) {
    auto initiate = [this, &batch](auto handler) {
      // Resumed on the caller's executor, which must not run out of work meanwhile.
      auto home = asio::prefer(asio::get_associated_executor(handler),
                               asio::execution::outstanding_work.tracked);
      auto shared = std::make_shared<decltype(handler)>(std::move(handler));
      start(std::move(batch), [shared, home](std::exception_ptr e, embedding_vectors v) {
        asio::post(home, [shared, e, v = std::move(v)]() mutable { (*shared)(e, std::move(v)); });
      });
    };
    auto vectors = co_await asio::async_initiate<const asio::use_awaitable_t<>&,
                                                 void(std::exception_ptr, embedding_vectors)>(
        std::move(initiate), asio::use_awaitable);
    for (auto& v : vectors) out.push_back(std::move(v));
  }
  co_return out;
}

embedding_vectors openai_embedder::embed_blocking(std::vector<std::string> texts,
                                                  embedding_purpose purpose) {
  embedding_vectors out;
  out.reserve(texts.size());
  // Curl enforces the timeout; the wait is bounded too, in case the loop has stopped.
  const auto longest = settings_->connect_timeout + settings_->timeout + std::chrono::seconds(5);
  for (auto& batch : batches(std::move(texts), purpose)) {
    auto promise = std::make_shared<std::promise<embedding_vectors>>();
    auto result = promise->get_future();
    start(std::move(batch), [promise](std::exception_ptr e, embedding_vectors v) {
      if (e) {
        promise->set_exception(e);
      } else {
        promise->set_value(std::move(v));
      }
    });
    if (result.wait_for(longest) != std::future_status::ready) {
      throw embedding_error("the embedding provider did not answer in time",
                            "no answer within the request timeout; is the loop running?");
    }
    for (auto& v : result.get()) out.push_back(std::move(v));
  }
  return out;
}

}  // namespace parley::llm
