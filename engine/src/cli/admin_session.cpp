#include "cli/admin_session.hpp"

namespace parley::cli {
namespace {

std::vector<base::master_key> read_master_keys(const config::config& cfg) {
  if (cfg.llm.master_keys_file.empty()) return {};
  auto ring = config::read_key_ring(cfg.llm.master_keys_file, "llm.master_keys_file");
  if (!ring.problems.empty()) throw config::config_error(std::move(ring.problems));
  return master_keys_of(ring.keys);
}

}  // namespace

admin::provider_catalog provider_catalog_of(const config::llm_config& llm,
                                            const base::sealed_box* box) {
  admin::provider_catalog catalog;
  for (const auto& [name, p] : config::providers_of(llm)) {
    catalog.takes_key.emplace(name, p.kind != "extractive");
  }
  catalog.credentials = box;
  return catalog;
}

std::vector<base::master_key> master_keys_of(const std::vector<config::ring_key>& ring) {
  std::vector<base::master_key> keys;
  for (const auto& k : ring) keys.push_back({k.kid, k.secret});
  return keys;
}

admin_session::admin_session(const invocation& inv, keys master_keys)
    : cfg_(load_config(inv)),
      db_(cfg_.database.dsn, 1),
      box_(master_keys == keys::read ? read_master_keys(cfg_) : std::vector<base::master_key>(),
           std::string(admin::credential_purpose)),
      catalog_(provider_catalog_of(cfg_.llm, &box_)),
      service_(db_, {"cli", ""}, catalog_),
      credentials_(db_, {"cli", ""}, catalog_) {}

}  // namespace parley::cli
