#include "store/tenant_repo.hpp"

#include <algorithm>

#include "store/db.hpp"

namespace parley::store {
namespace {

constexpr std::string_view columns =
    "id, slug, name, tier, is_active, rate_rpm, rate_burst, max_streams, allowed_origins, "
    "knowledge_version, extract(epoch FROM created_at)::bigint AS created_unix";

std::string select_list() {
  return std::string(columns) + ", " + std::string(knowledge_settings_columns) + ", " +
         std::string(budget_columns);
}

tenant from_row(const result& r, int row) {
  tenant t;
  t.id = r.str(row, "id");
  t.slug = r.str(row, "slug");
  t.name = r.str(row, "name");
  t.tier = r.str(row, "tier");
  t.is_active = r.boolean(row, "is_active");
  t.rate_rpm = r.opt_i64(row, "rate_rpm");
  t.rate_burst = r.opt_i64(row, "rate_burst");
  t.max_streams = r.opt_i64(row, "max_streams");
  t.allowed_origins = r.text_array(row, "allowed_origins");
  t.knowledge_version = r.i64(row, "knowledge_version");
  t.created_unix = r.i64(row, "created_unix");
  t.knowledge = knowledge_settings_of(r, row);
  t.budgets = budgets_of(r, row);
  return t;
}

std::optional<tenant> first(const result& r) {
  if (r.empty()) return std::nullopt;
  return from_row(r, 0);
}

}  // namespace

bool is_valid_slug(std::string_view slug) noexcept {
  if (slug.size() < 2 || slug.size() > 63 || slug.front() == '-') return false;
  return std::ranges::all_of(
      slug, [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; });
}

tenant create_tenant(transaction& tx, const new_tenant& t) {
  const auto r = tx.exec(
      "INSERT INTO tenants (slug, name, rate_rpm, rate_burst, max_streams, allowed_origins) "
      "VALUES ($1, $2, $3, $4, $5, $6::text[]) RETURNING " +
          select_list(),
      {t.slug, t.name, t.rate_rpm, t.rate_burst, t.max_streams, t.allowed_origins});
  return from_row(r, 0);
}

std::optional<tenant> find_tenant_by_slug(transaction& tx, std::string_view slug) {
  return first(tx.exec("SELECT " + select_list() + " FROM tenants WHERE slug = $1", {slug}));
}

std::optional<tenant> find_tenant_by_id(transaction& tx, std::string_view id) {
  return first(tx.exec("SELECT " + select_list() + " FROM tenants WHERE id = $1::uuid", {id}));
}

std::vector<tenant> list_tenants(transaction& tx) {
  const auto r = tx.exec("SELECT " + select_list() + " FROM tenants ORDER BY slug");
  std::vector<tenant> out;
  out.reserve(r.rows());
  for (int i = 0; i < r.rows(); ++i) out.push_back(from_row(r, i));
  return out;
}

std::optional<tenant> update_tenant(transaction& tx, std::string_view id,
                                    const tenant_patch& patch) {
  std::vector<param> params{param(id)};
  std::string sets = "updated_at = now()";
  const auto set = [&](std::string_view column, param value, std::string_view cast = "") {
    params.push_back(std::move(value));
    sets += ", " + std::string(column) + " = $" + std::to_string(params.size()) + std::string(cast);
  };
  if (patch.name) set("name", *patch.name);
  if (patch.rate_rpm) set("rate_rpm", *patch.rate_rpm);
  if (patch.rate_burst) set("rate_burst", *patch.rate_burst);
  if (patch.max_streams) set("max_streams", *patch.max_streams);
  if (patch.allowed_origins) set("allowed_origins", *patch.allowed_origins, "::text[]");
  if (patch.is_active) set("is_active", *patch.is_active);
  if (patch.budget_tokens_day) set("budget_tokens_day", *patch.budget_tokens_day, "::bigint");
  if (patch.budget_tokens_month) set("budget_tokens_month", *patch.budget_tokens_month, "::bigint");
  if (patch.budget_cost_day) set("budget_cost_day", *patch.budget_cost_day, "::numeric");
  if (patch.budget_cost_month) set("budget_cost_month", *patch.budget_cost_month, "::numeric");
  std::string settings = "settings";
  const auto merge = [&](std::string_view key, param value, std::string_view cast) {
    params.push_back(std::move(value));
    settings += " || jsonb_build_object('" + std::string(key) + "', $" +
                std::to_string(params.size()) + std::string(cast) + ")";
  };
  if (patch.chunk_tokens) merge("chunk_tokens", *patch.chunk_tokens, "::bigint");
  if (patch.chunk_overlap) merge("chunk_overlap", *patch.chunk_overlap, "::bigint");
  if (patch.hnsw) {
    merge("hnsw", *patch.hnsw, "::boolean");
    // Every engine's index of the tenant is of the other kind now: the version moves.
    sets += ", knowledge_version = knowledge_version + 1";
  }
  if (settings != "settings") sets += ", settings = " + settings;
  return first(tx.exec(
      "UPDATE tenants SET " + sets + " WHERE id = $1::uuid RETURNING " + select_list(), params));
}

bool origin_allowed(transaction& tx, std::string_view origin) {
  return tx.exec("SELECT 1 FROM tenants WHERE is_active AND $1 = ANY (allowed_origins) LIMIT 1",
                 {origin})
             .rows() > 0;
}

}  // namespace parley::store
