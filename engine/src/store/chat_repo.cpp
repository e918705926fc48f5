#include "store/chat_repo.hpp"

#include <nlohmann/json.hpp>

#include "base/json.hpp"
#include "rag/citation_json.hpp"
#include "store/db.hpp"

namespace parley::store {

namespace {

std::string metadata_json(const std::optional<message_metadata>& m) {
  if (!m) return "{}";
  nlohmann::json j = {{"citations", rag::citations_json(m->citations)}};
  if (m->refusal) j["refusal"] = true;
  if (m->status) j["status"] = *m->status;
  if (m->finish_reason) j["finish_reason"] = *m->finish_reason;
  return base::dump_json(j);
}

}  // namespace

std::optional<session_row> find_session(transaction& tx, std::string_view session_id) {
  const auto r = tx.exec("SELECT id, agent_id FROM sessions WHERE id = $1::uuid", {session_id});
  if (r.empty()) return std::nullopt;
  return session_row{r.str(0, 0), r.opt_str(0, 1)};
}

void create_session(write_batch& batch, const new_session& s) {
  batch.add(R"sql(
      INSERT INTO sessions (id, tenant_id, agent_id, channel, external_user, is_anonymous)
      VALUES ($1::uuid, $2::uuid, $3::uuid, $4, $5, true))sql",
            {s.id, s.tenant_id, s.agent_id, s.channel, s.external_user});
}

void touch_session(write_batch& batch, std::string_view session_id) {
  batch.add("UPDATE sessions SET last_activity_at = now() WHERE id = $1::uuid", {session_id});
}

std::vector<stored_message> recent_messages(transaction& tx, std::string_view session_id,
                                            int limit) {
  const auto r = tx.exec(R"sql(
      SELECT role, content FROM (
        SELECT role, content, created_at, id FROM messages
         WHERE session_id = $1::uuid AND role IN ('user', 'assistant')
         ORDER BY created_at DESC, id DESC LIMIT $2) recent
      ORDER BY created_at, id)sql",
                         {session_id, limit});
  std::vector<stored_message> out;
  out.reserve(r.rows());
  for (int i = 0; i < r.rows(); ++i) out.push_back({r.str(i, 0), r.str(i, 1)});
  return out;
}

void insert_message(write_batch& batch, const new_message& m) {
  batch.add(R"sql(
      INSERT INTO messages (id, tenant_id, session_id, role, content, metadata, created_at)
      VALUES ($1::uuid, $2::uuid, $3::uuid, $4, $5, $6::jsonb,
              'epoch'::timestamptz + $7::bigint * interval '1 microsecond'))sql",
            {m.id, m.tenant_id, m.session_id, m.role, m.content, metadata_json(m.metadata),
             m.said_at_unix_us});
}

void insert_llm_request(write_batch& batch, std::string_view tenant_id,
                        const llm_request_row& row) {
  batch.add(R"sql(
      INSERT INTO llm_requests (tenant_id, session_id, message_id, provider, model, prompt_tokens,
                                completion_tokens, total_tokens, usage_estimated, unit_cost_prompt,
                                unit_cost_completion, computed_cost, latency_ms, ttft_ms, status, error,
                                agent_id)
      VALUES ($1::uuid, $2::uuid, $3::uuid, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
              $17::uuid))sql",
            {tenant_id, row.session_id, row.message_id, row.provider, row.model, row.prompt_tokens,
             row.completion_tokens, row.prompt_tokens + row.completion_tokens, row.usage_estimated,
             row.unit_cost_prompt, row.unit_cost_completion, row.computed_cost, row.latency_ms,
             row.ttft_ms, row.status, row.error, row.agent_id});
}

}  // namespace parley::store
