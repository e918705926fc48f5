#include "api/chat_completions.hpp"

#include <memory>
#include <optional>
#include <string>

#include "api/chat_request.hpp"
#include "api/openai_format.hpp"
#include "base/clock.hpp"
#include "http/api_error.hpp"

namespace parley::api {

namespace {

namespace asio = boost::asio;

constexpr std::string_view session_header = "X-Parley-Session-Id";

// The one place pipeline errors become HTTP.
http::api_error to_api_error(const chat::turn_error& e) {
  switch (e.why()) {
    case chat::turn_error::reason::agent_not_found:
      return {404, "invalid_request_error", "model_not_found", e.what()};
    case chat::turn_error::reason::session_not_found:
      return http::api_error::not_found("session_not_found", e.what());
    case chat::turn_error::reason::embedding_failed:
      return http::api_error::embedding_failed(e.what());
    case chat::turn_error::reason::over_budget:
      return http::api_error::insufficient_quota(e.what());
    case chat::turn_error::reason::provider_unavailable:
      return {503, "server_error", "provider_unavailable", e.what()};
  }
  return http::api_error::internal();
}

http::api_error to_api_error(const chat::turn_failure& f) {
  if (f.code == "upstream_error") return http::api_error::upstream(f.message);
  return {500, "server_error", f.code, f.message};
}

chat::turn_request to_turn(chat_request&& c, const http::request& req) {
  const auto& who = req.identity;
  chat::turn_request t;
  t.received_at = req.received_at;
  t.tenant_id = who.tenant_id;
  t.request_id = who.request_id;
  t.agent_code = std::move(c.model);
  t.messages = std::move(c.messages);
  t.session_id = std::move(c.session_id);
  t.user = std::move(c.user);
  t.temperature = c.temperature;
  t.max_tokens = c.max_tokens;
  return t;
}

// The answer as one chat.completion object, sent when it is complete.
class whole_answer final : public chat::turn_sink {
 public:
  whole_answer(http::responder& res, completion_meta meta) : res_(res), meta_(std::move(meta)) {}

  asio::awaitable<bool> open(const chat::turn_opened& opened) override {
    session_id_ = opened.session_id;
    co_return true;
  }
  asio::awaitable<bool> token(std::string_view text) override {
    content_ += text;
    co_return true;
  }
  asio::awaitable<bool> heartbeat() override { co_return true; }
  asio::awaitable<void> done(const chat::turn_done& done) override {
    done_ = done;
    co_return;
  }
  asio::awaitable<void> fail(const chat::turn_failure& failure) override {
    failure_ = failure;
    co_return;
  }
  void on_client_gone(std::function<void()> cancel) override {
    res_.on_client_gone(std::move(cancel));
  }

  // After the turn: the whole answer, or its failure as an HTTP error.
  asio::awaitable<void> complete() {
    if (failure_) throw to_api_error(*failure_);
    if (!done_) throw http::api_error::client_closed();  // the client left: nobody to answer
    auto response = http::response::json(
        completion_object(meta_, content_, done_->finish_reason, done_->usage, done_->citations));
    response.headers.push_back({std::string(session_header), session_id_});
    co_await res_.send(std::move(response));
  }

 private:
  http::responder& res_;
  completion_meta meta_;
  std::string session_id_;
  std::string content_;
  std::optional<chat::turn_done> done_;
  std::optional<chat::turn_failure> failure_;
};

// The answer as chat.completion.chunk frames, each written as it arrives.
class streamed_answer final : public chat::turn_sink {
 public:
  streamed_answer(http::responder& res, completion_meta meta, std::chrono::milliseconds heartbeat)
      : res_(res), meta_(std::move(meta)), frames_(meta_), heartbeat_(heartbeat) {}

  asio::awaitable<bool> open(const chat::turn_opened& opened) override {
    http::sse_options options;
    options.heartbeat = heartbeat_;
    options.headers.push_back({std::string(session_header), opened.session_id});
    writer_ = &(co_await res_.start_sse(std::move(options))).get();
    if (cancel_) writer_->on_client_gone(cancel_);
    co_return co_await writer_->write(sse_data(role_chunk(meta_)));
  }
  asio::awaitable<bool> token(std::string_view text) override {
    co_return co_await writer_->write(frames_.frame(text));
  }
  asio::awaitable<bool> heartbeat() override { co_return co_await writer_->write(": ping\n\n"); }
  asio::awaitable<void> done(const chat::turn_done& done) override {
    std::vector<std::string> frames{
        sse_data(final_chunk(meta_, done.finish_reason, done.citations))};
    if (meta_.include_usage) frames.push_back(sse_data(usage_chunk(meta_, done.usage)));
    frames.emplace_back(sse_done);
    for (auto& frame : frames) {
      if (!co_await writer_->write(std::move(frame))) break;
    }
  }
  asio::awaitable<void> fail(const chat::turn_failure& failure) override {
    if (!writer_) {
      failure_ = failure;  // nothing sent yet: a plain HTTP error
      co_return;
    }
    // What OpenAI sends when a stream fails: a data frame with an error object, no [DONE].
    co_await writer_->write(sse_data(stream_error(failure.code, failure.message)));
  }
  void on_client_gone(std::function<void()> cancel) override {
    cancel_ = cancel;
    if (writer_) {
      writer_->on_client_gone(std::move(cancel));
    } else {
      res_.on_client_gone(std::move(cancel));
    }
  }

  // After the turn: the stream's end, or a plain HTTP error if nothing was sent.
  asio::awaitable<void> complete() {
    if (failure_) throw to_api_error(*failure_);
    if (!writer_) throw http::api_error::client_closed();
    co_await writer_->finish();
  }

 private:
  http::responder& res_;
  completion_meta meta_;
  content_frames frames_;
  std::chrono::milliseconds heartbeat_;
  http::sse_writer* writer_ = nullptr;
  std::function<void()> cancel_;
  std::optional<chat::turn_failure> failure_;
};

// What a request asks, parsed outside any coroutine frame (the parse's temporaries
// would otherwise take room in the handler's frame for as long as the answer runs).
struct parsed_turn {
  std::unique_ptr<chat::turn_request> turn;
  completion_meta meta;
  bool stream = false;
};

parsed_turn parse_turn(const http::request& req) {
  auto creq = parse_chat_request(http::parse_json_body(req));
  parsed_turn p;
  p.meta = {new_completion_id(), base::unix_seconds(), creq.model, creq.include_usage};
  p.stream = creq.stream;
  p.turn = std::make_unique<chat::turn_request>(to_turn(std::move(creq), req));
  return p;
}

// Runs the turn into the sink, the pipeline's refusals becoming HTTP errors (nothing
// was sent yet). One coroutine, whose frame holds the sink: a long stream's frames
// hold only what the stream needs (an idle stream's memory is mostly such frames).
template <class Sink>
asio::awaitable<void> answer(chat::pipeline& pipeline, std::unique_ptr<chat::turn_request> turn,
                             Sink sink) {
  std::unique_ptr<http::api_error> refused;  // not inline: the frame lasts as long as the answer
  try {
    co_await pipeline.run(std::move(turn), sink);
  } catch (const chat::turn_error& e) {
    refused = std::make_unique<http::api_error>(to_api_error(e));
  }
  if (refused) throw *refused;
  co_await sink.complete();
}

}  // namespace

void add_chat_completions_route(http::router& routes, chat::pipeline& pipeline,
                                std::chrono::milliseconds heartbeat) {
  routes.add(
      "POST", "/v1/chat/completions", {edge::principal_kind::key},
      // Not a coroutine itself (a bad request throws before any frame is made), so
      // that no frame of its own stays for as long as the answer runs.
      [&pipeline, heartbeat](http::request& req, http::responder& res) -> asio::awaitable<void> {
        auto p = parse_turn(req);
        req.release_payload();
        if (p.stream) {
          return answer(pipeline, std::move(p.turn),
                        streamed_answer(res, std::move(p.meta), heartbeat));
        }
        return answer(pipeline, std::move(p.turn), whole_answer(res, std::move(p.meta)));
      });
}

}  // namespace parley::api
