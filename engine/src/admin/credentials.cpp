#include "admin/credentials.hpp"

#include <algorithm>

#include "base/json.hpp"
#include "obs/log.hpp"
#include "store/audit_repo.hpp"
#include "store/db.hpp"
#include "store/tenant_repo.hpp"

namespace parley::admin {
namespace {

constexpr std::size_t max_credential = 4096;

// The key goes into an HTTP header upstream: printable ASCII without spaces, so that
// nothing it holds can end the header or add another.
void check_api_key(const std::string& key) {
  const bool printable = std::ranges::all_of(key, [](char c) { return c > 0x20 && c < 0x7f; });
  if (key.empty() || key.size() > max_credential || !printable) {
    throw refusal(refusal::reason::invalid, "invalid_api_key",
                  "api_key must be 1-" + std::to_string(max_credential) +
                      " printable ASCII characters without spaces");
  }
}

}  // namespace

const base::sealed_box& credential_admin::box() const {
  if (catalog_.credentials == nullptr || !catalog_.credentials->usable()) {
    throw refusal(refusal::reason::unavailable, "credentials_unavailable",
                  "tenant credentials cannot be stored: the operator has set no master key "
                  "ring (llm.master_keys_file)");
  }
  return *catalog_.credentials;
}

store::stored_credential credential_admin::put(const std::string& slug, const std::string& provider,
                                               const std::string& api_key) {
  const auto known = catalog_.takes_key.find(provider);
  if (known == catalog_.takes_key.end() || !known->second) {
    throw refusal(refusal::reason::invalid, "unknown_provider",
                  "'" + provider + "' is not a provider this service calls with a key");
  }
  check_api_key(api_key);
  const auto& sealer = box();
  const auto t = service(db_, actor_).get_tenant(slug);
  const auto sealed = sealer.seal(api_key, store::credential_context(t.id, provider));
  auto stored = db_.with_tenant(t.id, [&](store::transaction& tx) {
    auto s = store::put_credential(tx, t.id, provider, sealed);
    store::record_audit(
        tx, {t.id, actor_.name, "credential.set", provider,
             base::dump_json({{"request_id", actor_.request_id}, {"key_id", sealed.key_id}})});
    return s;
  });
  obs::info("credential_set", {{"tenant_id", t.id}, {"provider", provider}});
  return stored;
}

std::vector<store::stored_credential> credential_admin::list(const std::string& slug) {
  const auto t = service(db_, actor_).get_tenant(slug);
  return db_.with_tenant(t.id, [](store::transaction& tx) { return store::list_credentials(tx); });
}

void credential_admin::remove(const std::string& slug, const std::string& provider) {
  const auto t = service(db_, actor_).get_tenant(slug);
  db_.with_tenant(t.id, [&](store::transaction& tx) {
    if (!store::delete_credential(tx, provider)) {
      throw refusal(refusal::reason::not_found, "credential_not_found",
                    "tenant '" + slug + "' has no credential for '" + provider + "'");
    }
    store::record_audit(tx, {t.id, actor_.name, "credential.delete", provider,
                             base::dump_json({{"request_id", actor_.request_id}})});
  });
  obs::info("credential_deleted", {{"tenant_id", t.id}, {"provider", provider}});
}

reseal_report credential_admin::reseal_all() {
  const auto& sealer = box();
  const auto newest = sealer.current_key_id();
  reseal_report report;
  const auto tenants =
      db_.with_platform([](store::transaction& tx) { return store::list_tenants(tx); });
  for (const auto& t : tenants) {
    db_.with_tenant(t.id, [&](store::transaction& tx) {
      std::int64_t resealed = 0;
      // Every row is opened, those on the newest key too: the report then also
      // says whether every credential still opens.
      for (const auto& c : store::list_credentials(tx)) {
        const auto context = store::credential_context(t.id, c.provider);
        const auto key = sealer.open(c.sealed, context);
        if (!key) {
          ++report.unopenable;
          obs::error("credential_unopenable",
                     {{"tenant_id", t.id}, {"provider", c.provider}, {"key_id", c.sealed.key_id}});
        } else if (c.sealed.key_id == newest) {
          ++report.current;
        } else {
          store::reseal_credential(tx, c.provider, sealer.seal(*key, context));
          ++resealed;
        }
      }
      if (resealed == 0) return;
      report.resealed += resealed;
      store::record_audit(tx, {t.id, actor_.name, "credential.reseal", newest,
                               base::dump_json({{"credentials", resealed}})});
    });
  }
  return report;
}

nlohmann::json to_json(const store::stored_credential& c) {
  return {{"provider", c.provider},
          {"key_id", c.sealed.key_id},
          {"created", c.created_unix},
          {"updated", c.updated_unix}};
}

}  // namespace parley::admin
