#pragma once

// API keys (platform table): issue, list, revoke, the introspection lookup of secret
// keys and the widget's lookup of publishable (site) keys, both by hash.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/tenant_plan.hpp"

namespace parley::store {

class transaction;

struct api_key_record {
  std::string id;
  std::string tenant_id;
  std::string prefix;
  std::string kind;  // secret | publishable
  std::vector<std::string> scopes;
  std::int64_t created_unix = 0;
  std::optional<std::int64_t> last_used_unix;
  std::optional<std::int64_t> revoked_unix;
};

// Stores prefix and hash only; the key itself is never passed here.
api_key_record insert_key(transaction& tx, std::string_view tenant_id, std::string_view prefix,
                          std::string_view key_hash, std::string_view kind);

// The tenant's keys, newest first (prefixes and metadata; hashes stay in the table).
std::vector<api_key_record> list_keys(transaction& tx, std::string_view tenant_id);

// Sets revoked_at once; returns the key (revoked) or nothing if no such key.
std::optional<api_key_record> revoke_key_by_id(transaction& tx, std::string_view key_id);
std::optional<api_key_record> revoke_key_by_prefix(transaction& tx, std::string_view prefix);

// What the edge needs of a key (shared/parley_context.h, "Introspection").
struct key_grant {
  std::string tenant_id;
  std::string key_id;
  std::string kind;
  tenant_plan plan;
};

// The live secret key with this SHA-256 hex, if it is not revoked and its tenant is
// active. Marks the key used (at most once a minute, in the same round trip).
std::optional<key_grant> introspect_secret_key(transaction& tx, std::string_view key_hash);

struct site_key {
  std::string key_id;
  std::string tenant_id;
  std::vector<std::string> allowed_origins;
  tenant_plan plan;  // for the widget's credentials
};

// The live publishable key with this SHA-256 hex, if it is not revoked and its
// tenant is active. Secret keys never match: a site key is public, a secret key must
// not be usable where a site key is, and the other way round.
std::optional<site_key> find_site_key(transaction& tx, std::string_view key_hash);

// The same by the key's id (a lowercase UUID), for a bootstrap ticket that names it.
std::optional<site_key> find_site_key_by_id(transaction& tx, std::string_view key_id);

}  // namespace parley::store
