#include "widget/chat_routes.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>

#include <charconv>
#include <memory>

#include "base/clock.hpp"
#include "base/crypto.hpp"
#include "chat/pipeline.hpp"
#include "http/api_error.hpp"
#include "http/event.hpp"
#include "obs/log.hpp"
#include "rag/citation_json.hpp"
#include "store/db.hpp"
#include "store/text_guard.hpp"
#include "widget/credentials.hpp"
#include "widget/session_guard.hpp"

namespace parley::widget {

namespace asio = boost::asio;
namespace {

using json = nlohmann::json;

constexpr std::size_t max_content_chars = 4000;
constexpr std::size_t stream_key_bytes = 16;

// UTF-8 characters: every byte but continuation bytes starts one.
std::size_t utf8_length(std::string_view text) {
  std::size_t n = 0;
  for (const char c : text) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

// {"content": "<the visitor's question>"} and nothing else.
std::string parse_message(const http::request& req) {
  const auto body = http::parse_json_body(req);
  for (const auto& [name, value] : body.items()) {
    if (name != "content")
      throw http::api_error::bad_request("unknown_field", "Unknown field '" + name + "'.");
  }
  const auto it = body.find("content");
  if (it == body.end() || !it->is_string())
    throw http::api_error::bad_request("invalid_field", "'content' must be a string.");
  auto content = it->get<std::string>();
  if (content.find_first_not_of(" \t\r\n") == std::string::npos)
    throw http::api_error::bad_request("invalid_field", "'content' must not be empty.");
  if (utf8_length(content) > max_content_chars) {
    throw http::api_error::bad_request(
        "invalid_field",
        "'content' is longer than " + std::to_string(max_content_chars) + " characters.");
  }
  if (store::has_nul(content)) {
    throw http::api_error::bad_request(
        "invalid_content", "'content' contains a NUL character (\\u0000), which cannot be stored.");
  }
  return content;
}

// The pipeline's events as stream events. Nobody reads the stream directly: it
// may have no subscriber at all for a while (the visitor reconnecting).
class stream_sink final : public chat::turn_sink {
 public:
  explicit stream_sink(live_stream& stream) : stream_(stream) {}

  asio::awaitable<bool> open(const chat::turn_opened&) override { co_return true; }
  asio::awaitable<bool> token(std::string_view text) override {
    stream_.push("token", {{"delta", text}});
    co_return true;
  }
  asio::awaitable<bool> heartbeat() override { co_return true; }  // the readers ping
  asio::awaitable<void> done(const chat::turn_done& done) override {
    if (!done.citations.empty()) stream_.push("citations", rag::citations_json(done.citations));
    const auto& u = done.usage;
    stream_.push("done", {{"message_id", done.message_id},
                          {"usage",
                           {{"prompt_tokens", u.prompt_tokens},
                            {"completion_tokens", u.completion_tokens},
                            {"total_tokens", u.prompt_tokens + u.completion_tokens}}}});
    co_return;
  }
  asio::awaitable<void> fail(const chat::turn_failure& failure) override {
    stream_.push("error", {{"code", failure.code}, {"message", failure.message}});
    co_return;
  }
  void on_client_gone(std::function<void()> cancel) override {
    stream_.on_abandoned(std::move(cancel));
  }

 private:
  live_stream& stream_;
};

json error_event(std::string_view code, std::string_view message) {
  return {{"code", code}, {"message", message}};
}

// Runs on the stream's own strand, apart from the request that started it.
asio::awaitable<void> generate(chat::pipeline& pipeline, stream_hub& hub, std::string key,
                               std::shared_ptr<live_stream> stream,
                               std::unique_ptr<chat::turn_request> turn) {
  const auto request_id = turn->request_id;
  stream_sink sink(*stream);
  try {
    co_await pipeline.run(std::move(turn), sink);
  } catch (const chat::turn_error& e) {
    const bool over_budget = e.why() == chat::turn_error::reason::over_budget;
    // What the operator or tenant must fix about a provider's keys is for their
    // eyes (the engine's log, the API's errors), not a visitor's.
    const bool keys = e.why() == chat::turn_error::reason::provider_unavailable;
    stream->push(
        "error",
        error_event(over_budget ? "insufficient_quota" : "assistant_unavailable",
                    keys ? "The assistant is unavailable right now. Request id: " + request_id + "."
                         : std::string(e.what())));
  } catch (const std::exception& e) {
    obs::error("widget_answer_failed", {{"request_id", request_id}, {"error", e.what()}});
    stream->push("error",
                 error_event("server_error", "The answer failed. Request id: " + request_id + "."));
  }
  stream->finish();
  hub.finish(key, co_await asio::this_coro::executor);
}

// The Origin the stream id names (for CORS on its route): the page that asked.
std::string asking_origin(const http::request& req) {
  const auto origin = req.header("Origin");
  if (!origin || origin->empty() || origin->size() > PARLEY_ORIGIN_MAX) return "null";
  return std::string(*origin);
}

asio::awaitable<void> post_message(store::database& db, chat::pipeline& pipeline, stream_hub& hub,
                                   const chat_settings& s, http::request& req,
                                   http::responder& res) {
  auto content = parse_message(req);
  const auto& who = req.identity;
  const std::string session = who.session_id.value_or("");
  const auto signing = s.signer->current();
  if (!signing) {
    throw http::api_error::unavailable("widget_disabled",
                                       "The widget is not configured on this server.");
  }
  // A named lambda: g++ 12 destroys a temporary one in a co_await expression twice.
  // The tenant's plan, for the stream id, comes with the session's check.
  auto check = [tenant = who.tenant_id, session](store::transaction& tx) {
    return require_live_session(tx, tenant, session);
  };
  auto plan = co_await db.async_tenant(who.tenant_id, std::move(check));

  const auto key = base::base64url(base::random_bytes(stream_key_bytes));
  const auto strand = asio::make_strand(co_await asio::this_coro::executor);
  auto stream = hub.open(key, strand, who.tenant_id, session);
  if (!stream) {
    throw http::api_error(409, "invalid_request_error", "generation_in_progress",
                          "The previous answer of this conversation is still being written.");
  }
  auto turn = std::make_unique<chat::turn_request>();
  turn->received_at = req.received_at;
  turn->tenant_id = who.tenant_id;
  turn->request_id = who.request_id;
  turn->agent_code = who.principal_id;
  turn->messages.push_back({chat::message_role::user, std::move(content)});
  turn->session_id = session;
  turn->channel = "widget";
  turn->question_id = base::random_uuid();
  const std::string message_id = *turn->question_id;

  const stream_claims claims{
      {s.issuer, who.tenant_id, asking_origin(req), base::unix_seconds(), s.stream_id_ttl_s},
      session,
      who.principal_id,
      key,
      std::move(plan)};
  const auto stream_id = mint_stream_id(*signing, claims);
  stream->start();
  asio::co_spawn(strand, generate(pipeline, hub, key, stream, std::move(turn)), asio::detached);

  auto answer = http::response::json({{"stream_id", stream_id}, {"message_id", message_id}});
  answer.status = 202;
  answer.headers.push_back({"Cache-Control", "no-store"});
  co_await res.send(std::move(answer));
}

http::api_error stream_not_found() {
  return http::api_error::not_found(
      "stream_not_found", "This answer stream does not exist here or has ended long ago.");
}

// Last-Event-ID: the id of the last event the client has; none: 0 (from the start).
std::uint64_t last_event_id(const http::request& req) {
  const auto header = req.header("Last-Event-ID");
  if (!header || header->empty()) return 0;
  std::uint64_t id = 0;
  const auto* end = header->data() + header->size();
  const auto [at, ec] = std::from_chars(header->data(), end, id);
  if (ec != std::errc() || at != end) {
    throw http::api_error::bad_request("invalid_last_event_id",
                                       "Last-Event-ID must be an event id of this stream.");
  }
  return id;
}

// The stream the route's credential names, if it is this identity's and here.
std::shared_ptr<live_stream> find_stream(const stream_hub& hub, const chat_settings& s,
                                         const http::request& req) {
  const auto it = req.params.find("stream_id");
  if (it == req.params.end()) throw stream_not_found();
  // The edge verified it already; checking again costs one HMAC and keeps a
  // misconfigured edge from opening streams.
  const auto claims = read_stream_id(*s.signer->ring(), it->second, base::unix_seconds());
  const auto& who = req.identity;
  if (!claims || claims->base.tenant_id != who.tenant_id ||
      std::optional(claims->session_id) != who.session_id)
    throw stream_not_found();
  auto stream = hub.find(claims->stream_key);
  if (!stream || stream->tenant_id() != who.tenant_id) throw stream_not_found();
  return stream;
}

// Sends the stream's events after `last_seen` as they come, until the end or until
// the client leaves.
asio::awaitable<void> relay(live_stream& stream, http::sse_writer& writer,
                            std::uint64_t last_seen) {
  const auto ex = co_await asio::this_coro::executor;
  const auto wake = std::make_shared<http::event>(ex);
  // Wakes come from the generation's strand: each is posted to this one, where the
  // wait is, so none can slip in between reading and waiting.
  auto notify = [ex, weak = std::weak_ptr(wake)] {
    asio::post(ex, [weak] {
      if (const auto w = weak.lock()) w->notify();
    });
  };
  const auto subscription = stream.subscribe(notify);
  writer.on_client_gone(notify);
  for (;;) {
    auto batch = stream.read_after(last_seen);
    if (batch.gap) {
      auto gap = "event: error\ndata: " +
                 error_event("stream_gap",
                             "Part of this answer is no longer available; reload the conversation.")
                     .dump() +
                 "\n\n";
      co_await writer.write(std::move(gap));
      break;
    }
    bool client_ok = !writer.client_gone();
    for (auto& frame : batch.frames) {
      if (!client_ok) break;
      client_ok = co_await writer.write(std::move(frame));
    }
    last_seen = batch.last_id;
    if (!client_ok || batch.finished) break;
    if (batch.frames.empty()) co_await wake->wait();
  }
  stream.unsubscribe(subscription);
}

asio::awaitable<void> open_stream(const stream_hub& hub, const chat_settings& s, http::request& req,
                                  http::responder& res) {
  const auto stream = find_stream(hub, s, req);
  const auto last_seen = last_event_id(req);
  http::sse_options options;
  options.heartbeat = s.heartbeat;
  auto& writer = (co_await res.start_sse(std::move(options))).get();
  co_await relay(*stream, writer, last_seen);
  co_await writer.finish();
}

}  // namespace

void add_widget_chat_routes(http::router& routes, store::database& db, chat::pipeline& pipeline,
                            stream_hub& hub, chat_settings s) {
  auto shared = std::make_shared<const chat_settings>(std::move(s));
  routes.add("POST", "/widget/v1/messages", {edge::principal_kind::widget},
             [&db, &pipeline, &hub, shared](http::request& req, http::responder& res) {
               return post_message(db, pipeline, hub, *shared, req, res);
             });
  routes.add_credential_path("GET", "/widget/v1/streams/{stream_id}",
                             {edge::principal_kind::widget},
                             [&hub, shared](http::request& req, http::responder& res) {
                               return open_stream(hub, *shared, req, res);
                             });
}

}  // namespace parley::widget
