#pragma once

// POST /v1/chat/completions: the grounded chat pipeline behind the OpenAI API.
//
//   parse (400s) -> one tenant transaction: agent (404 model_not_found), session,
//   history, retrieval over the agent's enabled documents, the user message ->
//   refusal text when nothing relevant was found, else prompt + generation ->
//   OpenAI response (JSON or SSE chunks with citations) -> one transaction storing
//   the assistant message and the llm_requests row.
//
// NO FALLBACK: a retrieval or LLM failure is an explicit error (502 before the
// stream started, an SSE error frame after), never an answer without the knowledge
// base and never another provider. The tenant comes only from the verified edge
// identity.

#include <utility>  // before Asio under g++ 12 / Boost 1.74

#include <boost/asio/io_context.hpp>

#include <memory>

#include "chat/request.hpp"
#include "config/config.hpp"
#include "http/route.hpp"
#include "llm/provider.hpp"
#include "rag/index_cache.hpp"

namespace parley::llm {
class curl_multi;
}

namespace parley::store {
class database;
class transaction;
}  // namespace parley::store

namespace parley::chat {

namespace asio = boost::asio;

class service {
 public:
  // Builds the configured provider (extractive, or openai on a curl multi driven by
  // `io`). `db` and `cfg` must outlive the service; destroy it before `io`.
  service(asio::io_context& io, store::database& db, const config::config& cfg,
          const config::secrets& secrets);
  ~service();
  service(const service&) = delete;
  service& operator=(const service&) = delete;

  void add_routes(http::router& routes);

  asio::awaitable<void> complete(http::request& req, http::responder& res);

 private:
  struct prepared;
  struct outcome;
  struct call;

  prepared prepare(store::transaction& tx, const std::string& tenant_id, const chat_request& req);
  asio::awaitable<void> answer_refusal(http::request& req, http::responder& res,
                                       const chat_request& creq, const prepared& p);
  asio::awaitable<void> answer_generated(http::request& req, http::responder& res,
                                         const chat_request& creq, const prepared& p);
  call make_call(const http::request& req, const chat_request& creq, const prepared& p) const;
  asio::awaitable<void> whole_answer(http::responder& res, const call& c,
                                     std::shared_ptr<llm::generation> generation, outcome& o);
  asio::awaitable<void> stream_answer(http::responder& res, const call& c,
                                      std::shared_ptr<llm::generation> generation, outcome& o);
  // Stores the assistant message and the llm_requests row, then logs the call.
  asio::awaitable<void> persist(const call& c, const outcome& o);

  store::database& db_;
  const config::config& cfg_;
  std::unique_ptr<llm::curl_multi> multi_;  // only for providers that call out
  std::unique_ptr<llm::provider> provider_;
  std::string default_model_;
  rag::index_cache indexes_;
};

}  // namespace parley::chat
