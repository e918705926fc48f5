#include "store/widget_repo.hpp"

#include "store/db.hpp"

namespace parley::store {

bool widget_session_exists(transaction& tx, std::string_view tenant_id, std::string_view session_id) {
  return tx.exec("SELECT 1 FROM sessions "
                 "WHERE tenant_id = $1::uuid AND id = $2::uuid AND channel = 'widget'",
                 {tenant_id, session_id})
      .rows() > 0;
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
