#pragma once

// The grounded generation pipeline, apart from any wire format:
//
//   context: the agent and knowledge version from memory (chat/tenant_states.hpp,
//      kept current by notifications), and a continued session's history (one
//      short tenant transaction; a new session's id is made here)
//   -> retrieval over the agent's enabled documents (index built outside any
//      transaction, chat/indexes.hpp)
//   -> with no passages, the agent's refusal is the answer: it is stored with the
//      question (one transaction) and sent, and no LLM is called
//   -> otherwise prompt and provider call, events to the sink as they arrive
//   -> then one transaction stores the turn (the session if new, the question, the
//      answer and its llm_requests row), and only then done, or fail: nothing is
//      acknowledged that is not stored.
//
// So a new conversation's first token waits for no database round trip at all,
// and a turn costs the database one transaction.
//
// NO FALLBACK: a retrieval or LLM failure is an explicit failure, never an answer
// without the knowledge base and never another provider. Front ends (the OpenAI
// API, the widget) only translate turn_request in and sink events out.

#include <utility>  // before Asio under g++ 12 / Boost 1.74

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/sealed_box.hpp"
#include "chat/indexes.hpp"
#include "chat/providers.hpp"
#include "chat/tenant_states.hpp"
#include "chat/turn.hpp"
#include "config/config.hpp"
#include "llm/embedders.hpp"
#include "llm/provider.hpp"
#include "store/change_listener.hpp"
#include "store/chat_repo.hpp"

namespace parley::store {
class database;
}

namespace parley::chat {

class call_record;
class turn_timing;

class pipeline {
 public:
  // Builds the configured providers (chat/providers.hpp; those that call out do so
  // on a curl multi driven by `io`). Tenants' credentials are opened with
  // `credentials`. `db`, `cfg`, `embedders` and `credentials` must outlive the
  // pipeline; destroy it before `io`.
  pipeline(asio::io_context& io, store::database& db, const config::config& cfg,
           const config::secrets& secrets, llm::embedders& embedders,
           const base::sealed_box& credentials);
  ~pipeline();
  pipeline(const pipeline&) = delete;
  pipeline& operator=(const pipeline&) = delete;

  // Runs one turn, reporting to `sink`. Throws turn_error (unknown agent or
  // session, the query could not be embedded) before anything is stored, and store::db_error when
  // the database fails before the answer began. The request comes by pointer (never
  // null) and is gone once the call is prepared: a coroutine frame that held it would hold its
  // size for as long as the answer streams.
  asio::awaitable<void> run(std::unique_ptr<turn_request> req, turn_sink& sink);

  // The agent's best passages for `query`, as a turn would retrieve them, at most
  // `top_k` (else the agent's or the configured number). Throws turn_error:
  // agent_not_found for an agent that is unknown or disabled, embedding_failed.
  asio::awaitable<std::vector<rag::retrieved_passage>> retrieve(std::string tenant_id,
                                                                std::string agent_code,
                                                                std::string query,
                                                                std::optional<std::size_t> top_k);

  // The tenant's agents or knowledge changed, as a notification says or as a write
  // through this engine (which does not wait for its own notification) knows: its
  // state is read again at the next turn, and an index this engine holds is rebuilt
  // at the new knowledge version now, before its next question needs it.
  void tenant_changed(std::string tenant_id);

  // The master key ring changed: every tenant's credentials are opened again.
  void master_keys_changed() { tenants_.forget_all(); }

  std::size_t index_cache_bytes() const { return indexes_.cache().cached_bytes(); }

 private:
  struct context;
  struct call;

  // Context and retrieval; answers a refusal itself. The call to make, if any.
  asio::awaitable<std::unique_ptr<call>> prepare(turn_request req, turn_sink& sink);
  asio::awaitable<context> read_context(const turn_request& req);
  // The agent's provider and the key to call it with, into `ctx`; throws turn_error
  // (provider_unavailable).
  void choose_provider(const turn_request& req, const tenant_state& state, context& ctx) const;
  // For a tenant with a budget: reserves the call's most, or throws turn_error
  // (over_budget), counted in its usage.
  asio::awaitable<void> reserve(call& c);
  // What a search found, and the index it was found in (which citations refer to).
  struct found {
    std::shared_ptr<const rag::knowledge_index> index;
    std::vector<rag::retrieved_passage> passages;
  };
  // The tenant's index at `version`, searched for the agent with the query embedded
  // by the index's embedder.
  asio::awaitable<found> search(const std::string& tenant_id, std::int64_t version,
                                const store::agent& agent, std::string query,
                                std::optional<std::size_t> top_k);
  asio::awaitable<void> refuse(const turn_request& req, const context& ctx,
                               const std::string& answer_id, turn_sink& sink);
  call make_call(const turn_request& req, const context& ctx, found retrieved,
                 const turn_timing& timing) const;
  void log_prompt(const call& c) const;
  // The provider's events to the sink, into `record`, until the answer ends or the
  // client leaves.
  asio::awaitable<void> stream_answer(call& c, call_record& record, turn_sink& sink);
  // Stores the turn, logs it and tells the client how it ended.
  asio::awaitable<void> finish_turn(call& c, const call_record& record, turn_sink& sink);
  store::llm_request_row llm_row(const call& c, const call_record& record) const;
  asio::awaitable<bool> persist(const call& c, const call_record& record,
                                const std::vector<rag::citation>& citations,
                                store::llm_request_row row);
  void log_call(const call& c, const call_record& record, const store::llm_request_row& row) const;
  asio::awaitable<void> reload_index(std::string tenant_id);

  static constexpr std::size_t tenant_state_capacity = 10000;
  static constexpr std::int64_t reserve_margin = 16;  // tokens added to a prompt's estimate

  asio::io_context& io_;
  store::database& db_;
  const config::config& cfg_;
  providers providers_;
  llm::embedders& embedders_;
  indexes indexes_;
  tenant_states tenants_;
  store::change_listener listener_;  // after tenants_: it calls into them until destroyed
};

}  // namespace parley::chat
