#pragma once

// Conversations and their accounting: sessions, messages (citations in the
// metadata) and one llm_requests row per LLM call. Per-tenant tables: call inside
// a tenant transaction.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rag/citation.hpp"

namespace parley::store {

class transaction;
class write_batch;

struct session_row {
  std::string id;
  std::optional<std::string> agent_id;
};

std::optional<session_row> find_session(transaction& tx, std::string_view session_id);

struct new_session {
  std::string id;  // made by the engine (base::random_uuid), so known before the write
  std::string tenant_id;
  std::string agent_id;
  std::string channel;  // "api" or "widget"
  std::optional<std::string> external_user;
};

void create_session(write_batch& batch, const new_session& s);

void touch_session(write_batch& batch, std::string_view session_id);

struct stored_message {
  std::string role;  // system | user | assistant
  std::string content;
};

// The session's last `limit` user and assistant messages, oldest first.
std::vector<stored_message> recent_messages(transaction& tx, std::string_view session_id,
                                            int limit);

// What messages.metadata records of an assistant's message.
struct message_metadata {
  std::vector<rag::citation> citations;
  bool refusal = false;               // the agent's refusal text: no LLM was called
  std::optional<std::string> status;  // the call's: ok | error | cancelled
  std::optional<std::string> finish_reason;
};

struct new_message {
  std::string id;  // made by the engine (base::random_uuid), so the llm_requests row can name it
  std::string tenant_id;
  std::string session_id;
  std::string role;  // user | assistant
  std::string content;
  // When it was said (Unix microseconds, the engine's clock): orders a turn's
  // messages although they are written in one transaction.
  std::int64_t said_at_unix_us = 0;
  std::optional<message_metadata> metadata;  // none: the column holds {}
};

void insert_message(write_batch& batch, const new_message& m);

struct llm_request_row {
  std::string session_id;
  std::string agent_id;
  std::optional<std::string> message_id;
  std::string provider;
  std::string model;
  std::int64_t prompt_tokens = 0;
  std::int64_t completion_tokens = 0;
  bool usage_estimated = false;
  std::optional<double> unit_cost_prompt;  // per 1k tokens, from llm.prices
  std::optional<double> unit_cost_completion;
  std::optional<double> computed_cost;
  std::int64_t latency_ms = 0;
  std::optional<std::int64_t> ttft_ms;
  std::string status;  // ok | error | cancelled
  std::optional<std::string> error;
};

void insert_llm_request(write_batch& batch, std::string_view tenant_id, const llm_request_row& row);

}  // namespace parley::store
