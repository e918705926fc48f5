#pragma once

// Tenants' own provider credentials as stored: sealed (base/sealed_box.hpp), one per
// provider name (migration 0008). This layer never sees a credential in clear.
// Per-tenant table: call inside the tenant's transaction.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/sealed_box.hpp"

namespace parley::store {

class transaction;

struct stored_credential {
  std::string provider;
  base::sealed_value sealed;
  std::int64_t created_unix = 0;
  std::int64_t updated_unix = 0;
};

// What the sealed value authenticates besides itself: the row's tenant and provider.
std::string credential_context(std::string_view tenant_id, std::string_view provider);

// Stores (or replaces) the tenant's credential for `provider`.
stored_credential put_credential(transaction& tx, std::string_view tenant_id,
                                 std::string_view provider, const base::sealed_value& sealed);

// False when the tenant had none for `provider`.
bool delete_credential(transaction& tx, std::string_view provider);

// The tenant's credentials, by provider name.
std::vector<stored_credential> list_credentials(transaction& tx);

// Replaces the sealed value of `provider`'s credential (a master key rotation).
void reseal_credential(transaction& tx, std::string_view provider,
                       const base::sealed_value& sealed);

}  // namespace parley::store
