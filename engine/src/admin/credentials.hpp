#pragma once

// Tenants' own provider credentials, administered (SPEC 4.1 "Admin"): write-only. A
// credential is sealed (base/sealed_box.hpp) the moment it arrives and is never
// returned, logged or written to the audit log: what can be read back is which
// providers have one, which master key sealed it, and when it changed.
//
// Blocking, like admin::service: the CLI calls it directly, the admin API through
// database::async.

#include <cstdint>
#include <string>
#include <vector>

#include "admin/service.hpp"
#include "store/credential_repo.hpp"

namespace parley::admin {

// Seals the same way wherever a credential is sealed or opened (engine, CLI).
inline constexpr std::string_view credential_purpose = "parley provider credentials";

// What a rotation did, over every tenant.
struct reseal_report {
  std::int64_t resealed = 0;    // now sealed with the newest key
  std::int64_t current = 0;     // already were
  std::int64_t unopenable = 0;  // left as they are: no key of the ring opens them
};

class credential_admin {
 public:
  // `catalog` names the providers and holds the box; both must outlive this.
  credential_admin(store::database& db, actor who, const provider_catalog& catalog)
      : db_(db), actor_(std::move(who)), catalog_(catalog) {}

  // Stores (or replaces) the tenant's key for `provider`.
  store::stored_credential put(const std::string& slug, const std::string& provider,
                               const std::string& api_key);
  std::vector<store::stored_credential> list(const std::string& slug);
  void remove(const std::string& slug, const std::string& provider);

  // Seals every tenant's credentials again with the ring's newest key
  // (`parley rotate-master-key`), one tenant per transaction; those that no key
  // opens are counted and left as they are.
  reseal_report reseal_all();

 private:
  const base::sealed_box& box() const;

  store::database& db_;
  actor actor_;
  const provider_catalog& catalog_;
};

// The JSON view: never the credential.
nlohmann::json to_json(const store::stored_credential& c);

}  // namespace parley::admin
