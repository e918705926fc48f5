#pragma once

// A tenant's hard budgets (tenants.budget_*: tokens and cost, per UTC day and
// month; absent: no limit) and what it has spent against them (tenant_spend,
// migration 0006). Admission reserves a call's most before the call, in one
// conditional upsert that sees every concurrent reservation; settling replaces the
// reservation with the real usage when the call is stored. Tenants without a budget
// keep no spend row: when they get one, it starts from their usage so far. Per-tenant table: run in
// the tenant's transaction or write batch.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace parley::store {

class result;
class transaction;
class write_batch;

struct budgets {
  std::optional<std::int64_t> tokens_day;
  std::optional<std::int64_t> tokens_month;
  std::optional<double> cost_day;
  std::optional<double> cost_month;

  bool any() const noexcept { return tokens_day || tokens_month || cost_day || cost_month; }
  bool operator==(const budgets&) const = default;
};

// The select-list of tenants' budget columns budgets_of() reads.
extern const std::string_view budget_columns;
budgets budgets_of(const result& r, int row);

budgets read_budgets(transaction& tx, std::string_view tenant_id);

// What a call reserved: its tokens and cost, in the periods they were counted in.
struct reservation {
  std::int64_t tokens = 0;
  double cost = 0;
  std::string day;    // YYYY-MM-DD, UTC
  std::string month;  // the month's first day
};

// Adds the admission of a call of at most `tokens` and `cost` to `batch`, as its last
// statement: run it with database::write_returning and read it with admitted().
void add_admission(write_batch& batch, std::string_view tenant_id, std::int64_t tokens,
                   double cost);
// The reservation when the admission passed; nullopt when it would pass a budget.
std::optional<reservation> admitted(const result& r, std::int64_t tokens, double cost);

// Replaces what a call reserved with its real usage. Only calls that reserved are
// counted here: a tenant without a budget pays no write for it.
void settle_spend(write_batch& batch, std::string_view tenant_id, const reservation& reserved,
                  std::int64_t tokens, double cost);

// For a tenant given its first budget: today's and this month's spend so far, as
// usage_daily has it (which every call's own transaction keeps), become its spend
// row. Scopes the rest of the transaction to the tenant.
void seed_spend(transaction& tx, std::string_view tenant_id);

// Adds, as the batch's last statement, which budget a call of `tokens` and `cost`
// would pass, for its refusal; exhausted_budget_of() reads it: "daily token",
// "monthly cost", ..., or "current" when none would any more.
void add_exhausted_budget(write_batch& batch, std::string_view tenant_id, std::int64_t tokens,
                          double cost);
std::string exhausted_budget_of(const result& r);

}  // namespace parley::store
