#pragma once

// Tenants (platform table, no RLS): creation, lookup, listing and updates.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/knowledge_settings.hpp"
#include "store/spend_repo.hpp"

namespace parley::store {

class transaction;

struct tenant {
  std::string id;
  std::string slug;
  std::string name;
  std::string tier;  // shared | dedicated
  bool is_active = true;
  std::optional<std::int64_t> rate_rpm;  // absent: the edge's defaults
  std::optional<std::int64_t> rate_burst;
  std::optional<std::int64_t> max_streams;
  std::vector<std::string> allowed_origins;
  std::int64_t knowledge_version = 0;
  std::int64_t created_unix = 0;
  knowledge_settings knowledge;  // from tenants.settings
  store::budgets budgets;        // absent: no limit
};

struct new_tenant {
  std::string slug;
  std::string name;
  std::optional<std::int64_t> rate_rpm;
  std::optional<std::int64_t> rate_burst;
  std::optional<std::int64_t> max_streams;
  std::vector<std::string> allowed_origins;
};

// What an update changes: an empty optional leaves the column alone; for the plan
// limits, a present nullopt clears the limit (back to the edge's defaults).
struct tenant_patch {
  std::optional<std::string> name;
  std::optional<std::optional<std::int64_t>> rate_rpm;
  std::optional<std::optional<std::int64_t>> rate_burst;
  std::optional<std::optional<std::int64_t>> max_streams;
  std::optional<std::vector<std::string>> allowed_origins;
  std::optional<bool> is_active;
  std::optional<std::int64_t> chunk_tokens;  // for documents uploaded from now on
  std::optional<std::int64_t> chunk_overlap;
  std::optional<bool> hnsw;  // switching rebuilds the tenant's index on every engine
  // Hard budgets (UTC day and month); a present nullopt removes the budget.
  std::optional<std::optional<std::int64_t>> budget_tokens_day;
  std::optional<std::optional<std::int64_t>> budget_tokens_month;
  std::optional<std::optional<double>> budget_cost_day;
  std::optional<std::optional<double>> budget_cost_month;

  bool empty() const noexcept {
    return !name && !rate_rpm && !rate_burst && !max_streams && !allowed_origins && !is_active &&
           !chunk_tokens && !chunk_overlap && !hnsw && !budget_tokens_day && !budget_tokens_month &&
           !budget_cost_day && !budget_cost_month;
  }
};

// [a-z0-9][a-z0-9-]{1,62}: safe in URLs, logs and file names.
bool is_valid_slug(std::string_view slug) noexcept;

// Throws db_error (is_unique_violation() when the slug is taken).
tenant create_tenant(transaction& tx, const new_tenant& t);
std::optional<tenant> find_tenant_by_slug(transaction& tx, std::string_view slug);
std::optional<tenant> find_tenant_by_id(transaction& tx, std::string_view id);
std::vector<tenant> list_tenants(transaction& tx);

// Applies `patch` (not empty) to the tenant with this id; nothing if there is none.
std::optional<tenant> update_tenant(transaction& tx, std::string_view id,
                                    const tenant_patch& patch);

// Whether some active tenant lists exactly this origin (CORS preflight at the edge).
bool origin_allowed(transaction& tx, std::string_view origin);

}  // namespace parley::store
