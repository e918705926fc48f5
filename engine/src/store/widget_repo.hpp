#pragma once

// Widget sessions and what the widget reads of a conversation (per-tenant tables:
// call inside a tenant transaction). Every query also names the tenant explicitly, so
// a wrong session id finds nothing even if RLS were off.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "store/tenant_plan.hpp"

namespace parley::store {

class transaction;

struct history_message {
  std::string id;
  std::string role;  // user | assistant
  std::string content;
  std::string citations_json;  // JSON array text ("[]" when none)
  std::int64_t created_unix = 0;
};

// A new anonymous widget session, recording the publishable key that opened it.
// Returns its id.
std::string create_widget_session(transaction& tx, std::string_view tenant_id,
                                  std::string_view agent_id, std::string_view publishable_key_id);

// What a widget token's session is now: the token is only signed, so the tenant and
// the key that opened the session may have been switched off since.
enum class widget_session_state {
  missing,  // no widget session of this tenant with this id
  live,
  tenant_inactive,  // the tenant was deactivated
  key_revoked,      // the publishable key was revoked, deleted, or never recorded
};

// The session's state, and its tenant's plan as of now (read in the same query, for
// the credentials a route mints: no extra round trip).
struct widget_session_check {
  widget_session_state state = widget_session_state::missing;
  tenant_plan plan;
};

widget_session_check widget_session_status(transaction& tx, std::string_view tenant_id,
                                           std::string_view session_id);

// Deletes up to `limit` of this tenant's widget sessions that never received a
// message and have been idle (created and last active) longer than `idle_s`
// seconds, oldest first. Returns how many it deleted.
std::int64_t delete_idle_widget_sessions(transaction& tx, std::string_view tenant_id,
                                         std::int64_t idle_s, std::int64_t limit);

// The session's last `limit` user and assistant messages, oldest first.
std::vector<history_message> session_history(transaction& tx, std::string_view tenant_id,
                                             std::string_view session_id, int limit);

}  // namespace parley::store
