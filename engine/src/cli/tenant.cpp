#include <fmt/format.h>

#include "cli/command.hpp"
#include "store/db.hpp"

namespace parley::cli {
namespace {

nlohmann::json to_json(const store::tenant& t) {
  return {{"id", t.id},
          {"slug", t.slug},
          {"name", t.name},
          {"tier", t.tier},
          {"is_active", t.is_active},
          {"rate_rpm", t.rate_rpm ? nlohmann::json(*t.rate_rpm) : nlohmann::json()},
          {"rate_burst", t.rate_burst ? nlohmann::json(*t.rate_burst) : nlohmann::json()},
          {"max_streams", t.max_streams ? nlohmann::json(*t.max_streams) : nlohmann::json()},
          {"allowed_origins", t.allowed_origins},
          {"created", t.created_unix}};
}

std::string limit_text(const std::optional<std::int64_t>& v) {
  return v ? std::to_string(*v) : "default";
}

int create(const invocation& inv) {
  inv.opts.allow_only({"config", "json", "slug", "name", "rpm", "burst", "max-streams"});
  store::new_tenant t;
  t.slug = inv.opts.require("slug");
  t.name = inv.opts.require("name");
  t.rate_rpm = inv.opts.get_int("rpm", 1, 1'000'000'000);
  t.rate_burst = inv.opts.get_int("burst", 1, 1'000'000'000);
  t.max_streams = inv.opts.get_int("max-streams", 1, 1'000'000);
  if (!store::is_valid_slug(t.slug)) {
    throw usage_error("--slug must be 2-63 characters of a-z, 0-9 and '-', not starting with '-'");
  }
  if (t.name.size() > 200) throw usage_error("--name must be at most 200 characters");

  const auto cfg = load_config(inv);
  store::database db(cfg.database.dsn, 1);
  store::tenant created;
  try {
    created = db.with_platform([&](store::transaction& tx) { return store::create_tenant(tx, t); });
  } catch (const store::db_error& e) {
    if (e.is_unique_violation()) throw command_error("tenant_exists", "a tenant with slug '" + t.slug + "' already exists");
    throw;
  }
  inv.out.result(to_json(created),
                 fmt::format("created tenant {} ({}) id={} rpm={} burst={} max_streams={}", created.slug,
                             created.name, created.id, limit_text(created.rate_rpm),
                             limit_text(created.rate_burst), limit_text(created.max_streams)));
  return 0;
}

int list(const invocation& inv) {
  inv.opts.allow_only({"config", "json"});
  const auto cfg = load_config(inv);
  store::database db(cfg.database.dsn, 1);
  const auto tenants = db.with_platform([](store::transaction& tx) { return store::list_tenants(tx); });
  nlohmann::json data = nlohmann::json::array();
  std::string human = fmt::format("{:<24} {:<36} {:<8} {:<6} {}\n", "SLUG", "ID", "TIER", "ACTIVE", "NAME");
  for (const auto& t : tenants) {
    data.push_back(to_json(t));
    human += fmt::format("{:<24} {:<36} {:<8} {:<6} {}\n", t.slug, t.id, t.tier,
                         t.is_active ? "yes" : "no", t.name);
  }
  inv.out.result({{"tenants", data}}, human);
  return 0;
}

}  // namespace

int tenant(const invocation& inv) {
  const auto& verb = inv.opts.positional();
  if (verb.size() == 1 && verb[0] == "create") return create(inv);
  if (verb.size() == 1 && verb[0] == "list") return list(inv);
  throw usage_error("expected 'tenant create' or 'tenant list'");
}

}  // namespace parley::cli
