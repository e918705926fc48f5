#pragma once

// What the widget reads of a conversation (per-tenant tables: call inside a tenant
// transaction). Every query also names the tenant explicitly, so a wrong session id
// finds nothing even if RLS were off.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace parley::store {

class transaction;

struct history_message {
  std::string id;
  std::string role;             // user | assistant
  std::string content;
  std::string citations_json;   // JSON array text ("[]" when none)
  std::int64_t created_unix = 0;
};

// Whether this tenant has a widget session with this id.
bool widget_session_exists(transaction& tx, std::string_view tenant_id, std::string_view session_id);

// The session's last `limit` user and assistant messages, oldest first.
std::vector<history_message> session_history(transaction& tx, std::string_view tenant_id,
                                              std::string_view session_id, int limit);

}  // namespace parley::store
