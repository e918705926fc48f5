#include "store/widget_repo.hpp"

#include "store/db.hpp"

namespace parley::store {

std::string create_widget_session(transaction& tx, std::string_view tenant_id,
                                  std::string_view agent_id, std::string_view publishable_key_id) {
  return tx
      .exec(R"sql(
      INSERT INTO sessions (tenant_id, agent_id, channel, is_anonymous, publishable_key_id)
      VALUES ($1::uuid, $2::uuid, 'widget', true, $3::uuid) RETURNING id)sql",
            {tenant_id, agent_id, publishable_key_id})
      .str(0, 0);
}

// tenants and api_keys are platform tables (no RLS); the session row is this
// tenant's, so the join finds nothing for another tenant's session.
widget_session_check widget_session_status(transaction& tx, std::string_view tenant_id,
                                           std::string_view session_id) {
  const auto r = tx.exec(R"sql(
      SELECT t.is_active, k.id IS NOT NULL AND k.revoked_at IS NULL AS key_live,
             t.rate_rpm, t.rate_burst, t.max_streams
        FROM sessions s
        JOIN tenants t ON t.id = s.tenant_id
        LEFT JOIN api_keys k ON k.tenant_id = s.tenant_id AND k.id = s.publishable_key_id
                            AND k.kind = 'publishable'
       WHERE s.tenant_id = $1::uuid AND s.id = $2::uuid AND s.channel = 'widget')sql",
                         {tenant_id, session_id});
  if (r.empty()) return {};
  const auto plan = plan_of(r, 0);
  if (!r.boolean(0, "is_active")) return {widget_session_state::tenant_inactive, plan};
  if (!r.boolean(0, "key_live")) return {widget_session_state::key_revoked, plan};
  return {widget_session_state::live, plan};
}

// SKIP LOCKED: a session some transaction holds (a message being written into it)
// is left for the next sweep. The messages index (session_id, created_at) answers
// the NOT EXISTS.
std::int64_t delete_idle_widget_sessions(transaction& tx, std::string_view tenant_id,
                                         std::int64_t idle_s, std::int64_t limit) {
  return tx
      .exec(R"sql(
      DELETE FROM sessions WHERE id IN (
        SELECT s.id FROM sessions s
         WHERE s.tenant_id = $1::uuid AND s.channel = 'widget'
           AND s.last_activity_at < now() - make_interval(secs => $2)
           AND s.created_at < now() - make_interval(secs => $2)
           AND NOT EXISTS (SELECT 1 FROM messages m
                            WHERE m.session_id = s.id AND m.tenant_id = s.tenant_id)
         ORDER BY s.last_activity_at
         LIMIT $3
         FOR UPDATE SKIP LOCKED))sql",
            {tenant_id, idle_s, limit})
      .affected();
}

// A question and its answer may share a timestamp (now() is the transaction's start
// when both are written together): the question sorts first.
std::vector<history_message> session_history(transaction& tx, std::string_view tenant_id,
                                             std::string_view session_id, int limit) {
  const auto r = tx.exec(R"sql(
      SELECT id, role, content, citations, created_unix FROM (
        SELECT id, role, content, created_at,
               CASE WHEN jsonb_typeof(metadata -> 'citations') = 'array'
                    THEN metadata -> 'citations' ELSE '[]'::jsonb END::text AS citations,
               extract(epoch FROM created_at)::bigint AS created_unix
          FROM messages
         WHERE tenant_id = $1::uuid AND session_id = $2::uuid AND role IN ('user', 'assistant')
         ORDER BY created_at DESC, role = 'assistant' DESC, id DESC LIMIT $3) recent
      ORDER BY created_at, role = 'assistant', id)sql",
                         {tenant_id, session_id, limit});
  std::vector<history_message> out;
  out.reserve(r.rows());
  for (int i = 0; i < r.rows(); ++i) {
    out.push_back({r.str(i, "id"), r.str(i, "role"), r.str(i, "content"), r.str(i, "citations"),
                   r.i64(i, "created_unix")});
  }
  return out;
}

}  // namespace parley::store
