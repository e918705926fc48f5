#pragma once

// The grounded generation pipeline, apart from any wire format:
//
//   read (one short tenant transaction: agent, session, history, knowledge version)
//   -> retrieval over the agent's enabled documents (index built outside any
//      transaction, chat/indexes.hpp)
//   -> write (a second short transaction: the session if new, the user's message,
//      and the refusal when nothing relevant was found)
//   -> prompt and provider call, events to the sink as they arrive
//   -> accounting and persistence (a third transaction: the answer and its
//      llm_requests row), then done or fail.
//
// NO FALLBACK: a retrieval or LLM failure is an explicit failure, never an answer
// without the knowledge base and never another provider. Front ends (the OpenAI
// API, the widget) only translate turn_request in and sink events out.

#include <utility>  // before Asio under g++ 12 / Boost 1.74

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include <memory>
#include <string>
#include <vector>

#include "chat/indexes.hpp"
#include "chat/turn.hpp"
#include "config/config.hpp"
#include "llm/provider.hpp"

namespace parley::llm {
class curl_multi;
}

namespace parley::store {
class database;
}

namespace parley::chat {

class call_record;

class pipeline {
 public:
  // Builds the configured provider (extractive, or openai on a curl multi driven by
  // `io`). `db` and `cfg` must outlive the pipeline; destroy it before `io`.
  pipeline(asio::io_context& io, store::database& db, const config::config& cfg,
           const config::secrets& secrets);
  ~pipeline();
  pipeline(const pipeline&) = delete;
  pipeline& operator=(const pipeline&) = delete;

  // Runs one turn, reporting to `sink`. Throws turn_error (unknown agent or
  // session) before anything is stored, and store::db_error when the database
  // fails before the answer began.
  asio::awaitable<void> run(turn_request req, turn_sink& sink);

 private:
  struct context;
  struct call;

  asio::awaitable<context> read_context(const turn_request& req);
  asio::awaitable<std::string> record_question(const turn_request& req, const context& ctx,
                                               bool refused);
  asio::awaitable<void> refuse(const turn_request& req, const context& ctx,
                               const std::string& session_id, turn_sink& sink);
  call make_call(const turn_request& req, const context& ctx, std::string session_id,
                 std::vector<rag::retrieved_passage> passages) const;
  asio::awaitable<void> generate(const turn_request& req, call c, turn_sink& sink);
  asio::awaitable<bool> persist(const call& c, const call_record& record);
  void log_call(const call& c, const call_record& record) const;

  store::database& db_;
  const config::config& cfg_;
  std::unique_ptr<llm::curl_multi> multi_;  // only for providers that call out
  std::unique_ptr<llm::provider> provider_;
  std::string default_model_;
  indexes indexes_;
};

}  // namespace parley::chat
