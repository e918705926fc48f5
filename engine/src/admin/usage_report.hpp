#pragma once

// A tenant's usage and cost over a span of UTC days, as the admin API
// (GET /admin/v1/tenants/{slug}/usage) and `parley usage` show it: read from
// usage_daily, which the engine writes in the transaction of each llm_requests row.

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "store/usage_repo.hpp"

namespace parley::store {
class database;
}

namespace parley::admin {

struct usage_query {
  std::optional<std::string> from;  // YYYY-MM-DD; absent: the first day of this month (UTC)
  std::optional<std::string> to;    // YYYY-MM-DD, included; absent: today (UTC)
  std::optional<std::string> by;    // day | agent | model; absent: day
};

struct usage_report {
  std::string tenant;  // the slug; empty across tenants
  std::string from;
  std::string to;
  std::string by;
  std::vector<store::usage_line> lines;
};

// Throws refusal (invalid) for a malformed date, a span backwards or over
// max_usage_days, or an unknown grouping.
usage_report read_usage_report(store::database& db, const std::string& tenant_id,
                               const std::string& slug, const usage_query& q);

// Every tenant's usage, one line per tenant (by "tenant"), read through
// `reporting` (database.reporting_dsn: the only role that reads across tenants).
usage_report read_usage_across_tenants(store::database& reporting, const usage_query& q);

nlohmann::json to_json(const usage_report& r);

}  // namespace parley::admin
