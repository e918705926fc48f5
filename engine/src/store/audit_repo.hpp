#pragma once

// The audit log (platform table, append-only for the engine role): one row per
// administrative write, in the same transaction as the write, so a change and its
// record commit or roll back together.

#include <optional>
#include <string>
#include <string_view>

namespace parley::store {

class transaction;

struct audit_entry {
  std::optional<std::string> tenant_id;
  std::string actor;                // "cli", "admin-api"
  std::string action;               // "tenant.create", "key.revoke", ...
  std::string target;               // slug, key id, agent code
  std::string details_json = "{}";  // never secrets
};

void record_audit(transaction& tx, const audit_entry& entry);

}  // namespace parley::store
