#include "cli/command.hpp"
#include "obs/log.hpp"
#include "store/db.hpp"

namespace parley::cli {

config::config load_config(const invocation& inv, config::secrets* secrets_out) {
  const auto path = config::resolve_path(inv.opts.get("config").value_or(""), inv.env);
  auto cfg = config::load(path, inv.env, secrets_out);
  obs::init(cfg.logging);
  return cfg;
}

store::tenant require_tenant(store::database& db, const std::string& slug) {
  auto t = db.with_platform(
      [&](store::transaction& tx) { return store::find_tenant_by_slug(tx, slug); });
  if (!t) throw command_error("tenant_not_found", "no tenant with slug '" + slug + "'");
  return *t;
}

}  // namespace parley::cli
