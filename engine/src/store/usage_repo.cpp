#include "store/usage_repo.hpp"

#include <random>
#include <string>

#include "store/db.hpp"

namespace parley::store {

namespace {

// The stripes of a usage line (migration 0009): concurrent calls of one tenant
// rarely add to the same row, so they do not wait for each other's commit.
constexpr int usage_stripes = 32;

int random_stripe() {
  thread_local std::minstd_rand pick(std::random_device{}());
  return std::uniform_int_distribution<int>(0, usage_stripes - 1)(pick);
}

// What the columns of one usage line add to the stored ones.
constexpr std::string_view add_to_line = R"sql(
      ON CONFLICT (tenant_id, day, agent_id, model, stripe) DO UPDATE SET
        requests = usage_daily.requests + EXCLUDED.requests,
        prompt_tokens = usage_daily.prompt_tokens + EXCLUDED.prompt_tokens,
        completion_tokens = usage_daily.completion_tokens + EXCLUDED.completion_tokens,
        cost = usage_daily.cost + EXCLUDED.cost,
        errors = usage_daily.errors + EXCLUDED.errors,
        cancelled = usage_daily.cancelled + EXCLUDED.cancelled,
        refusals = usage_daily.refusals + EXCLUDED.refusals,
        budget_refusals = usage_daily.budget_refusals + EXCLUDED.budget_refusals)sql";

const std::string count_call_sql = R"sql(
      INSERT INTO usage_daily (tenant_id, day, agent_id, model, stripe, requests, prompt_tokens,
                               completion_tokens, cost, errors, cancelled)
      VALUES ($1::uuid, (now() AT TIME ZONE 'UTC')::date, $2::uuid, $3, $8::smallint, 1,
              $4::bigint, $5::bigint, $6::numeric, ($7 = 'error')::int,
              ($7 = 'cancelled')::int))sql" +
                                   std::string(add_to_line);

const std::string count_uncalled_sql = R"sql(
      INSERT INTO usage_daily (tenant_id, day, agent_id, model, stripe, refusals, budget_refusals)
      VALUES ($1::uuid, (now() AT TIME ZONE 'UTC')::date, $2::uuid, '', $5::smallint, $3::int,
              $4::int))sql" + std::string(add_to_line);

struct grouping_sql {
  std::string_view key;
  std::string_view from;
};

// Each joins only what it names: the reporting role may read tenants, not agents.
grouping_sql sql_of(usage_grouping by) {
  switch (by) {
    case usage_grouping::day: return {"u.day::text", "usage_daily u"};
    case usage_grouping::agent:
      return {"coalesce(a.code, u.agent_id::text)",
              "usage_daily u LEFT JOIN agents a ON a.id = u.agent_id"};
    case usage_grouping::model: return {"u.model", "usage_daily u"};
    case usage_grouping::tenant:
      return {"t.slug", "usage_daily u JOIN tenants t ON t.id = u.tenant_id"};
  }
  return {"u.day::text", "usage_daily u"};
}

}  // namespace

void count_call(write_batch& batch, std::string_view tenant_id, const counted_call& call) {
  batch.add(count_call_sql, {tenant_id, call.agent_id, call.model, call.prompt_tokens,
                             call.completion_tokens, call.cost, call.status, random_stripe()});
}

void count_uncalled(write_batch& batch, std::string_view tenant_id, std::string_view agent_id,
                    uncalled why) {
  batch.add(count_uncalled_sql, {tenant_id, agent_id, why == uncalled::refusal ? 1 : 0,
                                 why == uncalled::over_budget ? 1 : 0, random_stripe()});
}

std::vector<usage_line> read_usage(transaction& tx, std::string_view from, std::string_view to,
                                   usage_grouping by) {
  const auto sql = sql_of(by);
  const auto r = tx.exec(
      "SELECT " + std::string(sql.key) +
          " AS key, sum(requests), sum(prompt_tokens), sum(completion_tokens), "
          "sum(cost)::float8, sum(errors), sum(cancelled), sum(refusals), sum(budget_refusals) "
          "FROM " +
          std::string(sql.from) +
          " WHERE u.day BETWEEN $1::date AND $2::date GROUP BY 1 ORDER BY 1",
      {from, to});
  std::vector<usage_line> out;
  for (int i = 0; i < r.rows(); ++i) {
    out.push_back({r.str(i, 0), r.i64(i, 1), r.i64(i, 2), r.i64(i, 3), std::stod(r.str(i, 4)),
                   r.i64(i, 5), r.i64(i, 6), r.i64(i, 7), r.i64(i, 8)});
  }
  return out;
}

}  // namespace parley::store
