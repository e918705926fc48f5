#include "store/spend_repo.hpp"

#include <string>

#include "store/db.hpp"

namespace parley::store {

const std::string_view budget_columns =
    "budget_tokens_day, budget_tokens_month, budget_cost_day::float8 AS budget_cost_day, "
    "budget_cost_month::float8 AS budget_cost_month";

namespace {

std::optional<double> opt_double(const result& r, int row, std::string_view col) {
  if (r.is_null(row, col)) return std::nullopt;
  return std::stod(r.str(row, col));
}

}  // namespace

budgets budgets_of(const result& r, int row) {
  return {r.opt_i64(row, "budget_tokens_day"), r.opt_i64(row, "budget_tokens_month"),
          opt_double(r, row, "budget_cost_day"), opt_double(r, row, "budget_cost_month")};
}

budgets read_budgets(transaction& tx, std::string_view tenant_id) {
  const auto r = tx.exec(
      "SELECT " + std::string(budget_columns) + " FROM tenants WHERE id = $1::uuid", {tenant_id});
  if (r.empty()) return {};
  return budgets_of(r, 0);
}

void add_admission(write_batch& batch, std::string_view tenant_id, std::int64_t tokens,
                   double cost) {
  // The row's lock is held until the commit, so every admission of the tenant
  // waits for the one before it to commit: without waiting for the WAL's flush as
  // well, they follow each other in microseconds, not milliseconds. Nobody is told
  // of a reservation, so it need not survive a crash of the database, which would
  // lose at most the last fraction of a second of them (wal_writer_delay), each
  // then settled without having been counted: under-counting the budget by them.
  batch.add("SELECT set_config('synchronous_commit', 'off', true)", {});
  // The row proposed holds the call alone and must fit by itself. Against a stored
  // row, ON CONFLICT's condition is checked on the row's latest version, under its
  // lock: a concurrent admission is always seen. A counter of a day (month) that is
  // over counts as zero.
  batch.add(R"sql(
      INSERT INTO tenant_spend AS s (tenant_id, day, day_tokens, day_cost, month, month_tokens,
                                     month_cost)
      SELECT t.id, (now() AT TIME ZONE 'UTC')::date, $2::bigint, $3::numeric,
             date_trunc('month', now() AT TIME ZONE 'UTC')::date, $2::bigint, $3::numeric
      FROM tenants t
      WHERE t.id = $1::uuid
        AND (t.budget_tokens_day IS NULL OR $2::bigint <= t.budget_tokens_day)
        AND (t.budget_tokens_month IS NULL OR $2::bigint <= t.budget_tokens_month)
        AND (t.budget_cost_day IS NULL OR $3::numeric <= t.budget_cost_day)
        AND (t.budget_cost_month IS NULL OR $3::numeric <= t.budget_cost_month)
      ON CONFLICT (tenant_id) DO UPDATE SET
        day_tokens = CASE WHEN s.day = EXCLUDED.day THEN s.day_tokens ELSE 0 END
                     + EXCLUDED.day_tokens,
        day_cost = CASE WHEN s.day = EXCLUDED.day THEN s.day_cost ELSE 0 END + EXCLUDED.day_cost,
        day = EXCLUDED.day,
        month_tokens = CASE WHEN s.month = EXCLUDED.month THEN s.month_tokens ELSE 0 END
                       + EXCLUDED.month_tokens,
        month_cost = CASE WHEN s.month = EXCLUDED.month THEN s.month_cost ELSE 0 END
                     + EXCLUDED.month_cost,
        month = EXCLUDED.month
      WHERE (SELECT
          (t.budget_tokens_day IS NULL OR
           CASE WHEN s.day = EXCLUDED.day THEN s.day_tokens ELSE 0 END + EXCLUDED.day_tokens
             <= t.budget_tokens_day)
          AND (t.budget_cost_day IS NULL OR
               CASE WHEN s.day = EXCLUDED.day THEN s.day_cost ELSE 0 END + EXCLUDED.day_cost
                 <= t.budget_cost_day)
          AND (t.budget_tokens_month IS NULL OR
               CASE WHEN s.month = EXCLUDED.month THEN s.month_tokens ELSE 0 END
                 + EXCLUDED.month_tokens <= t.budget_tokens_month)
          AND (t.budget_cost_month IS NULL OR
               CASE WHEN s.month = EXCLUDED.month THEN s.month_cost ELSE 0 END
                 + EXCLUDED.month_cost <= t.budget_cost_month)
        FROM tenants t WHERE t.id = s.tenant_id)
      RETURNING day::text, month::text)sql",
            {tenant_id, tokens, cost});
}

std::optional<reservation> admitted(const result& r, std::int64_t tokens, double cost) {
  if (r.empty()) return std::nullopt;
  return reservation{tokens, cost, r.str(0, 0), r.str(0, 1)};
}

void settle_spend(write_batch& batch, std::string_view tenant_id, const reservation& reserved,
                  std::int64_t tokens, double cost) {
  // Against the periods of the reservation: a call reserved yesterday is settled in
  // yesterday's count, which today's no longer holds. Last in its transaction: every
  // admission of the tenant waits for this row's lock until the commit.
  batch.add_last(
      R"sql(
      UPDATE tenant_spend SET
        day_tokens = day_tokens + CASE WHEN day = $2::date THEN $4::bigint ELSE 0 END,
        day_cost = day_cost + CASE WHEN day = $2::date THEN $5::numeric ELSE 0 END,
        month_tokens = month_tokens + CASE WHEN month = $3::date THEN $4::bigint ELSE 0 END,
        month_cost = month_cost + CASE WHEN month = $3::date THEN $5::numeric ELSE 0 END
      WHERE tenant_id = $1::uuid)sql",
      {tenant_id, reserved.day, reserved.month, tokens - reserved.tokens, cost - reserved.cost});
}

void seed_spend(transaction& tx, std::string_view tenant_id) {
  tx.exec("SELECT set_config('parley.tenant_id', $1, true)", {tenant_id});
  tx.exec(R"sql(
      INSERT INTO tenant_spend (tenant_id, day, day_tokens, day_cost, month, month_tokens,
                                month_cost)
      SELECT $1::uuid, p.today,
             coalesce(sum(u.prompt_tokens + u.completion_tokens) FILTER (WHERE u.day = p.today), 0),
             coalesce(sum(u.cost) FILTER (WHERE u.day = p.today), 0),
             p.month, coalesce(sum(u.prompt_tokens + u.completion_tokens), 0),
             coalesce(sum(u.cost), 0)
        FROM (SELECT (now() AT TIME ZONE 'UTC')::date AS today,
                     date_trunc('month', now() AT TIME ZONE 'UTC')::date AS month) p
        LEFT JOIN usage_daily u ON u.tenant_id = $1::uuid AND u.day >= p.month
       GROUP BY p.today, p.month
      ON CONFLICT (tenant_id) DO UPDATE SET
        day = EXCLUDED.day, day_tokens = EXCLUDED.day_tokens, day_cost = EXCLUDED.day_cost,
        month = EXCLUDED.month, month_tokens = EXCLUDED.month_tokens,
        month_cost = EXCLUDED.month_cost)sql",
          {tenant_id});
}

void add_exhausted_budget(write_batch& batch, std::string_view tenant_id, std::int64_t tokens,
                          double cost) {
  batch.add(R"sql(
      WITH spent AS (
        SELECT CASE WHEN s.day = (now() AT TIME ZONE 'UTC')::date THEN s.day_tokens ELSE 0 END
                 AS day_tokens,
               CASE WHEN s.day = (now() AT TIME ZONE 'UTC')::date THEN s.day_cost ELSE 0 END
                 AS day_cost,
               CASE WHEN s.month = date_trunc('month', now() AT TIME ZONE 'UTC')::date
                    THEN s.month_tokens ELSE 0 END AS month_tokens,
               CASE WHEN s.month = date_trunc('month', now() AT TIME ZONE 'UTC')::date
                    THEN s.month_cost ELSE 0 END AS month_cost
        FROM tenant_spend s WHERE s.tenant_id = $1::uuid
        UNION ALL SELECT 0, 0, 0, 0 LIMIT 1)
      SELECT CASE
        WHEN spent.day_tokens + $2::bigint > t.budget_tokens_day THEN 'daily token'
        WHEN spent.day_cost + $3::numeric > t.budget_cost_day THEN 'daily cost'
        WHEN spent.month_tokens + $2::bigint > t.budget_tokens_month THEN 'monthly token'
        WHEN spent.month_cost + $3::numeric > t.budget_cost_month THEN 'monthly cost'
        ELSE 'current' END
      FROM tenants t, spent WHERE t.id = $1::uuid)sql",
            {tenant_id, tokens, cost});
}

std::string exhausted_budget_of(const result& r) { return r.empty() ? "current" : r.str(0, 0); }

}  // namespace parley::store
