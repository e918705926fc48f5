#include "llm/streaming_call.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <mutex>
#include <vector>

#include "obs/log.hpp"

namespace parley::llm {

namespace {

using clock = std::chrono::steady_clock;

// Bytes of undelivered tokens before the upstream is paused, and the level at
// which it resumes.
constexpr std::size_t queue_high_bytes = 64 * 1024;
constexpr std::size_t queue_low_bytes = 16 * 1024;
constexpr std::size_t event_overhead_bytes = 64;
constexpr std::size_t small_queue_events = 32;
constexpr std::size_t max_error_body_bytes = 8 * 1024;
constexpr long receive_buffer_bytes = 1024;  // curl's least

std::string describe(CURLcode code, const char* detail) {
  switch (code) {
    case CURLE_COULDNT_CONNECT: return "could not connect to the LLM provider";
    case CURLE_COULDNT_RESOLVE_HOST: return "could not resolve the LLM provider's host name";
    case CURLE_OPERATION_TIMEDOUT: return "timed out connecting to the LLM provider";
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION: return "TLS connection to the LLM provider failed";
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
      return "the connection to the LLM provider broke off before the answer was complete";
    default: break;
  }
  std::string out = "the request to the LLM provider failed: ";
  out += (detail != nullptr && *detail != '\0') ? detail : curl_easy_strerror(code);
  return out;
}

std::size_t event_bytes(const event& e) {
  if (const auto* t = std::get_if<token_event>(&e)) return t->text.size() + event_overhead_bytes;
  return event_overhead_bytes;
}

// The state of one upstream stream, shared by the consumer (the chat handler's
// strand) and curl (the multi's strand): the queue and flags under the mutex are
// touched from both; the rest only on the multi's strand.
class streaming_call : public std::enable_shared_from_this<streaming_call> {
 public:
  streaming_call(curl_multi& multi, std::shared_ptr<const upstream_settings> settings,
                 stream_request request, stream_dialect dialect, asio::any_io_executor consumer)
      : multi_(multi),
        settings_(std::move(settings)),
        dialect_(dialect),
        consumer_(std::move(consumer)),
        wake_(consumer_),
        deadline_(multi.strand()),
        secret_(std::move(request.secret)),
        path_(std::move(request.path)),
        extra_headers_(std::move(request.headers)),
        body_(std::move(request.body)) {}

  ~streaming_call() {
    if (headers_ != nullptr) curl_slist_free_all(headers_);
    if (easy_ != nullptr) curl_easy_cleanup(easy_);
  }

  void launch() {
    asio::post(multi_.strand(), [self = shared_from_this()] { self->begin(); });
  }

  // ---- consumer side -------------------------------------------------------------

  asio::awaitable<std::optional<event>> next(std::chrono::milliseconds max_wait) {
    // Clamped so that "wait as long as it takes" callers cannot overflow the clock.
    const auto deadline =
        clock::now() + std::min<std::chrono::milliseconds>(max_wait, std::chrono::hours(24));
    for (;;) {
      std::optional<event> out;
      bool resume = false;
      {
        std::lock_guard lock(mutex_);
        if (cancelled_) co_return error_event{failure_kind::cancelled, "cancelled"};
        if (queue_head_ < queue_.size()) {
          out = take_front();
          queued_bytes_ -= event_bytes(*out);
          resume = paused_ && queued_bytes_ <= queue_low_bytes;
          if (resume) paused_ = false;
        } else {
          waiting_ = true;
        }
      }
      if (out) {
        if (resume) {
          asio::post(multi_.strand(), [self = shared_from_this()] { self->unpause(); });
        }
        co_return std::move(*out);
      }
      if (clock::now() >= deadline) {
        std::lock_guard lock(mutex_);
        waiting_ = false;
        co_return std::nullopt;
      }
      // Woken by push() (posted to this strand), cancel() or the deadline; a
      // spurious wake just loops.
      wake_.expires_at(deadline);
      boost::system::error_code ec;
      co_await wake_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
  }

  void cancel() {
    {
      std::lock_guard lock(mutex_);
      if (cancelled_) return;
      cancelled_ = true;
      waiting_ = false;
    }
    wake_.cancel();
    asio::post(multi_.strand(), [self = shared_from_this()] { self->abort(); });
  }

  bool ended() {
    std::lock_guard lock(mutex_);
    return ended_ || cancelled_;
  }

 private:
  // ---- multi strand --------------------------------------------------------------

  void begin() {
    if (is_cancelled()) return;
    try {
      configure();
      multi_.add(easy_, [self = shared_from_this()](CURLcode code) { self->on_done(code); });
    } catch (const std::exception& e) {
      obs::error("llm_request_setup_failed", {{"error", e.what()}});
      finish(error_event{failure_kind::broken,
                         std::string("the request could not be set up: ") + e.what(), false});
      return;
    }
    active_ = true;
    started_ = clock::now();
    last_activity_ = started_;
    arm_deadline(started_ + settings_->first_token_timeout);
  }

  void configure() {
    easy_ = curl_easy_init();
    if (easy_ == nullptr) throw std::runtime_error("curl_easy_init failed");
    std::string url = settings_->base_url;
    while (!url.empty() && url.back() == '/') url.pop_back();
    url += path_;
    std::string().swap(path_);
    const auto append = [this](const std::string& h) {
      auto* next = curl_slist_append(headers_, h.c_str());
      if (next == nullptr) throw std::runtime_error("curl_slist_append failed");
      headers_ = next;
    };
    append("Content-Type: application/json");
    append("Accept: text/event-stream");
    for (const auto& h : extra_headers_) append(h);
    std::vector<std::string>().swap(extra_headers_);  // curl keeps its own copies
    error_buffer_[0] = '\0';
    curl_easy_setopt(easy_, CURLOPT_URL, url.c_str());
    curl_easy_setopt(easy_, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy_, CURLOPT_HTTPHEADER, headers_);
    curl_easy_setopt(easy_, CURLOPT_POSTFIELDS, body_.c_str());
    curl_easy_setopt(easy_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body_.size()));
    curl_easy_setopt(easy_, CURLOPT_WRITEFUNCTION, &streaming_call::on_write);
    curl_easy_setopt(easy_, CURLOPT_WRITEDATA, this);
    curl_easy_setopt(easy_, CURLOPT_HEADERFUNCTION, &streaming_call::on_header);
    curl_easy_setopt(easy_, CURLOPT_HEADERDATA, this);
    // An event of a chat stream is a few hundred bytes: curl's default 16 KiB receive
    // buffer would be most of what an idle stream costs.
    curl_easy_setopt(easy_, CURLOPT_BUFFERSIZE, receive_buffer_bytes);
    curl_easy_setopt(easy_, CURLOPT_ERRORBUFFER, error_buffer_);
    curl_easy_setopt(easy_, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(settings_->connect_timeout.count()));
    curl_easy_setopt(easy_, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy_, CURLOPT_TCP_KEEPALIVE, 1L);
    // Certificates are always verified (curl's default); only whom to trust changes.
    if (!settings_->ca_file.empty())
      curl_easy_setopt(easy_, CURLOPT_CAINFO, settings_->ca_file.c_str());
  }

  // Curl's header callback (each line of the response head). An answer has begun,
  // so once the whole body went out curl will not send it again (it resends only a
  // request that got no answer at all, and follows no redirects): the body, often
  // the largest thing a stream holds, is released.
  static std::size_t on_header(char* /*data*/, std::size_t size, std::size_t count,
                               void* self) noexcept {
    static_cast<streaming_call*>(self)->release_sent_body();
    return size * count;
  }

  void release_sent_body() noexcept {
    if (body_.empty()) return;
    curl_off_t sent = 0;
    if (curl_easy_getinfo(easy_, CURLINFO_SIZE_UPLOAD_T, &sent) == CURLE_OK &&
        sent == static_cast<curl_off_t>(body_.size())) {
      std::string().swap(body_);
    }
  }

  // Curl's write callback: runs inside curl_multi_socket_action on the multi strand.
  static std::size_t on_write(char* data, std::size_t size, std::size_t count,
                              void* self) noexcept {
    auto& s = *static_cast<streaming_call*>(self);
    try {
      return s.write({data, size * count});
    } catch (...) {
      s.failure_ = "internal error while reading the LLM provider's stream";
      return CURL_WRITEFUNC_ERROR;
    }
  }

  std::size_t write(std::string_view data) {
    const auto size = data.size();
    if (status_ == 0) curl_easy_getinfo(easy_, CURLINFO_RESPONSE_CODE, &status_);
    last_activity_ = clock::now();
    if (status_ >= 400) {
      // Keep the start of the error body for the message; it is not a stream.
      error_body_.append(data.substr(
          0, max_error_body_bytes - std::min(max_error_body_bytes, error_body_.size())));
      return size;
    }
    {
      std::lock_guard lock(mutex_);
      if (cancelled_) return CURL_WRITEFUNC_ERROR;
      if (queued_bytes_ >= queue_high_bytes) {
        paused_ = true;  // curl keeps these bytes and hands them over again on resume
        return CURL_WRITEFUNC_PAUSE;
      }
    }
    parsed_.clear();
    if (!parser_.feed(data, parsed_)) {
      failure_ = "the LLM provider sent a malformed stream (oversized event)";
      return CURL_WRITEFUNC_ERROR;
    }
    for (const auto& e : parsed_) {
      if (saw_last_) break;
      const auto step = dialect_.read(e);
      if (!step) {
        failure_ = "the LLM provider sent a malformed stream";
        return CURL_WRITEFUNC_ERROR;
      }
      if (step->error) {
        failure_ = "the LLM provider reported an error: " + *step->error;
        return CURL_WRITEFUNC_ERROR;
      }
      if (!step->text.empty()) {
        if (!got_token_) {
          got_token_ = true;
          // From now on the (usually shorter) idle timeout applies.
          arm_deadline(last_activity_ + settings_->idle_timeout);
        }
        push(token_event{step->text});
      }
      if (step->finish_reason) finish_reason_ = *step->finish_reason;
      if (step->prompt_tokens || step->completion_tokens) {
        if (!usage_) usage_.emplace();
        if (step->prompt_tokens) usage_->prompt_tokens = *step->prompt_tokens;
        if (step->completion_tokens) usage_->completion_tokens = *step->completion_tokens;
      }
      complete_ = complete_ || step->complete;
      saw_last_ = step->last;
    }
    return size;
  }

  // The transfer ended by itself (the multi already removed it).
  void on_done(CURLcode code) {
    active_ = false;
    deadline_.cancel();
    long status = status_;
    curl_easy_getinfo(easy_, CURLINFO_RESPONSE_CODE, &status);
    if (!failure_.empty()) {
      finish(error_event{failure_kind::broken, failure_});
    } else if (code != CURLE_OK) {
      // The client gets a plain description; curl's detail (which certificate, which
      // host) is for the operator. A transfer we aborted ourselves is no failure.
      if (!is_cancelled()) {
        obs::warn(
            "llm_transfer_failed",
            {{"curl_code", static_cast<int>(code)},
             {"detail", error_buffer_[0] != '\0' ? error_buffer_ : curl_easy_strerror(code)}});
      }
      // Only a connect timeout is set, so a timeout here is one too.
      const bool reached = code != CURLE_COULDNT_CONNECT && code != CURLE_COULDNT_RESOLVE_HOST &&
                           code != CURLE_OPERATION_TIMEDOUT && code != CURLE_SSL_CONNECT_ERROR &&
                           code != CURLE_PEER_FAILED_VERIFICATION;
      finish(error_event{reached ? failure_kind::broken : failure_kind::unreachable,
                         describe(code, error_buffer_), reached});
    } else if (status >= 400) {
      auto message = "the LLM provider answered HTTP " + std::to_string(status);
      if (const auto detail = dialect_.error_message(error_body_)) message += ": " + *detail;
      finish(error_event{failure_kind::refused, message});
    } else if (!complete_) {
      finish(error_event{failure_kind::broken,
                         "the LLM provider's stream ended before the answer was complete"});
    } else {
      finish(done_event{finish_reason_.value_or("stop"), usage_});
    }
  }

  void arm_deadline(clock::time_point due) {
    deadline_.expires_at(due);
    deadline_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (ec == asio::error::operation_aborted) return;
      self->on_deadline();
    });
  }

  void on_deadline() {
    if (!active_) return;
    const auto now = clock::now();
    {
      std::lock_guard lock(mutex_);
      if (paused_) last_activity_ = now;  // we stopped reading, the upstream is not idle
    }
    const auto due = got_token_ ? last_activity_ + settings_->idle_timeout
                                : started_ + settings_->first_token_timeout;
    if (now < due) {
      arm_deadline(due);
      return;
    }
    multi_.remove(easy_);
    active_ = false;
    finish(error_event{failure_kind::timeout,
                       got_token_
                           ? "the LLM provider stopped sending (idle timeout)"
                           : "the LLM provider sent no answer in time (first-token timeout)"});
  }

  void unpause() {
    if (active_) curl_easy_pause(easy_, CURLPAUSE_CONT);
  }

  void abort() {
    if (!active_) return;
    multi_.remove(easy_);
    active_ = false;
    deadline_.cancel();
  }

  bool is_cancelled() {
    std::lock_guard lock(mutex_);
    return cancelled_;
  }

  // The queue is a vector read from queue_head_: unlike std::deque, an empty one
  // holds no memory (an idle stream's queue is empty), and it is given back after a
  // burst.
  event take_front() {
    event e = std::move(queue_[queue_head_++]);
    if (queue_head_ == queue_.size()) {
      queue_head_ = 0;
      if (queue_.capacity() > small_queue_events) {
        std::vector<event>().swap(queue_);
      } else {
        queue_.clear();
      }
    }
    return e;
  }

  void push(event e) {
    bool notify = false;
    {
      std::lock_guard lock(mutex_);
      if (cancelled_) return;
      queued_bytes_ += event_bytes(e);
      queue_.push_back(std::move(e));
      notify = waiting_;
      waiting_ = false;
    }
    if (notify) asio::post(consumer_, [self = shared_from_this()] { self->wake_.cancel(); });
  }

  void finish(event last) {
    // A provider's error body may quote the key it refused.
    if (auto* e = std::get_if<error_event>(&last); e && !secret_.empty()) {
      for (auto at = e->detail.find(secret_); at != std::string::npos;
           at = e->detail.find(secret_, at)) {
        e->detail.replace(at, secret_.size(), "[credential]");
      }
    }
    {
      std::lock_guard lock(mutex_);
      ended_ = true;
    }
    push(std::move(last));
  }

  curl_multi& multi_;
  const std::shared_ptr<const upstream_settings> settings_;
  const stream_dialect dialect_;
  asio::any_io_executor consumer_;
  asio::steady_timer wake_;      // consumer strand only
  asio::steady_timer deadline_;  // multi strand only
  const std::string secret_;

  // multi strand only
  std::string path_;
  std::vector<std::string> extra_headers_;
  std::string body_;
  CURL* easy_ = nullptr;
  curl_slist* headers_ = nullptr;
  char error_buffer_[CURL_ERROR_SIZE]{};
  bool active_ = false;  // added to the multi and not yet ended
  long status_ = 0;
  std::string error_body_;
  sse_parser parser_;
  std::vector<sse_event> parsed_;
  std::string failure_;
  bool complete_ = false;  // the dialect saw the answer whole
  bool saw_last_ = false;
  bool got_token_ = false;
  std::optional<std::string> finish_reason_;
  std::optional<llm::usage> usage_;
  clock::time_point started_;
  clock::time_point last_activity_;

  // shared
  std::mutex mutex_;
  std::vector<event> queue_;  // guarded by mutex_, read from queue_head_
  std::size_t queue_head_ = 0;
  std::size_t queued_bytes_ = 0;
  bool waiting_ = false;  // the consumer is parked in next()
  bool paused_ = false;   // the transfer is paused until the queue drains
  bool cancelled_ = false;
  bool ended_ = false;
};

class streaming_generation final : public generation {
 public:
  explicit streaming_generation(std::shared_ptr<streaming_call> stream)
      : stream_(std::move(stream)) {}

  // A generation dropped before its end (an exception in the handler) must not keep
  // an upstream request running.
  ~streaming_generation() override {
    if (!stream_->ended()) stream_->cancel();
  }

  asio::awaitable<std::optional<event>> next(std::chrono::milliseconds max_wait) override {
    return stream_->next(max_wait);
  }
  void cancel() override { stream_->cancel(); }

 private:
  std::shared_ptr<streaming_call> stream_;
};

}  // namespace

std::unique_ptr<generation> start_streaming_call(curl_multi& multi,
                                                 std::shared_ptr<const upstream_settings> settings,
                                                 stream_request request, stream_dialect dialect,
                                                 asio::any_io_executor consumer) {
  auto stream = std::make_shared<streaming_call>(multi, std::move(settings), std::move(request),
                                                 dialect, std::move(consumer));
  stream->launch();
  return std::make_unique<streaming_generation>(std::move(stream));
}

streaming_provider::streaming_provider(curl_multi& multi, upstream_settings settings,
                                       stream_dialect dialect)
    : multi_(multi),
      settings_(std::make_shared<const upstream_settings>(std::move(settings))),
      dialect_(dialect) {}

std::unique_ptr<generation> streaming_provider::start(generation_request request,
                                                      asio::any_io_executor consumer) {
  const auto& key = request.api_key ? *request.api_key : settings_->api_key;
  auto call = prepare(request, key);
  call.secret = key;
  return start_streaming_call(multi_, settings_, std::move(call), dialect_, std::move(consumer));
}

std::string without_nul(std::string text) {
  std::erase(text, '\0');
  return text;
}

}  // namespace parley::llm
