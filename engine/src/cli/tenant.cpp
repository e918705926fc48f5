#include <fmt/format.h>

#include "cli/admin_session.hpp"

namespace parley::cli {
namespace {

std::string limit_text(const std::optional<std::int64_t>& v) {
  return v ? std::to_string(*v) : "default";
}

std::string origins_text(const std::vector<std::string>& origins) {
  return origins.empty() ? "none" : fmt::format("{}", fmt::join(origins, " "));
}

std::string summary(std::string_view verb, const store::tenant& t) {
  return fmt::format("{} tenant {} ({}) id={} active={} rpm={} burst={} max_streams={} origins={}",
                     verb, t.slug, t.name, t.id, t.is_active ? "yes" : "no", limit_text(t.rate_rpm),
                     limit_text(t.rate_burst), limit_text(t.max_streams),
                     origins_text(t.allowed_origins));
}

int create(const invocation& inv) {
  inv.opts.allow_only(
      {"config", "json", "slug", "name", "rpm", "burst", "max-streams", "allowed-origin"});
  store::new_tenant t;
  t.slug = inv.opts.require("slug");
  t.name = inv.opts.require("name");
  t.rate_rpm = inv.opts.get_int("rpm", 1, 1'000'000'000);
  t.rate_burst = inv.opts.get_int("burst", 1, 1'000'000'000);
  t.max_streams = inv.opts.get_int("max-streams", 1, 1'000'000);
  t.allowed_origins = inv.opts.get_all("allowed-origin");
  const auto created = admin_session(inv)->create_tenant(std::move(t));
  inv.out.result(admin::to_json(created), summary("created", created));
  return 0;
}

// Only what is given changes; --allowed-origin (repeatable) replaces the whole list.
int update(const invocation& inv) {
  inv.opts.allow_only({"config", "json", "slug", "name", "rpm", "burst", "max-streams",
                       "allowed-origin", "active", "chunk-tokens", "chunk-overlap", "hnsw",
                       "budget-tokens-day", "budget-tokens-month", "budget-cost-day",
                       "budget-cost-month"});
  const std::string slug = inv.opts.require("slug");
  store::tenant_patch patch;
  patch.name = inv.opts.get("name");
  if (const auto v = inv.opts.get_int("rpm", 1, 1'000'000'000)) patch.rate_rpm.emplace(*v);
  if (const auto v = inv.opts.get_int("burst", 1, 1'000'000'000)) patch.rate_burst.emplace(*v);
  if (const auto v = inv.opts.get_int("max-streams", 1, 1'000'000)) patch.max_streams.emplace(*v);
  if (auto origins = inv.opts.get_all("allowed-origin"); !origins.empty())
    patch.allowed_origins = std::move(origins);
  patch.is_active = bool_option(inv.opts, "active");
  patch.chunk_tokens = inv.opts.get_int("chunk-tokens", 1, 1'000'000);
  patch.chunk_overlap = inv.opts.get_int("chunk-overlap", 0, 1'000'000);
  patch.hnsw = bool_option(inv.opts, "hnsw");
  patch.budget_tokens_day = whole_or_none(inv.opts, "budget-tokens-day");
  patch.budget_tokens_month = whole_or_none(inv.opts, "budget-tokens-month");
  patch.budget_cost_day = number_or_none(inv.opts, "budget-cost-day");
  patch.budget_cost_month = number_or_none(inv.opts, "budget-cost-month");
  const auto updated = admin_session(inv)->update_tenant(slug, std::move(patch));
  inv.out.result(admin::to_json(updated), summary("updated", updated));
  return 0;
}

int list(const invocation& inv) {
  inv.opts.allow_only({"config", "json"});
  const auto tenants = admin_session(inv)->list_tenants();
  nlohmann::json data = nlohmann::json::array();
  std::string human =
      fmt::format("{:<24} {:<36} {:<8} {:<6} {}\n", "SLUG", "ID", "TIER", "ACTIVE", "NAME");
  for (const auto& t : tenants) {
    data.push_back(admin::to_json(t));
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
  if (verb.size() == 1 && verb[0] == "update") return update(inv);
  if (verb.size() == 1 && verb[0] == "list") return list(inv);
  throw usage_error("expected 'tenant create', 'tenant update' or 'tenant list'");
}

}  // namespace parley::cli
