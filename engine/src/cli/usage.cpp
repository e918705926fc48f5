// parley usage --tenant SLUG [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--by day|agent|model] [--json]
// parley usage --all [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--json]
//
// A tenant's requests, tokens, cost, errors and refusals per UTC day, agent or
// model (admin/usage_report.hpp): the same report as
// GET /admin/v1/tenants/{slug}/usage. With --all, one line per tenant, read as
// database.reporting_dsn's role, the only one that reads across tenants.

#include <fmt/format.h>

#include "cli/admin_session.hpp"

namespace parley::cli {

namespace {

std::string row_text(std::string_view key, const store::usage_line& l) {
  return fmt::format("{:<36} {:>9} {:>12} {:>12} {:>12.6f} {:>7} {:>9} {:>8} {:>8}\n", key,
                     l.requests, l.prompt_tokens, l.completion_tokens, l.cost, l.errors,
                     l.cancelled, l.refusals, l.budget_refusals);
}

admin::usage_report across_tenants(const invocation& inv, const admin::usage_query& q) {
  if (q.by) throw usage_error("--all reports by tenant; --by is for one tenant");
  store::database reporting(load_config(inv).database.reporting_dsn, 1);
  try {
    return admin::read_usage_across_tenants(reporting, q);
  } catch (const admin::refusal& r) {
    throw command_error(r.code(), r.what());
  }
}

}  // namespace

int usage(const invocation& inv) {
  inv.opts.allow_only({"config", "json", "tenant", "all", "from", "to", "by"});
  const admin::usage_query q{inv.opts.get("from"), inv.opts.get("to"), inv.opts.get("by")};
  const bool all = inv.opts.flag("all");
  if (all == inv.opts.get("tenant").has_value()) {
    throw usage_error("give --tenant SLUG or --all");
  }
  const auto report =
      all ? across_tenants(inv, q) : admin_session(inv)->usage(*inv.opts.get("tenant"), q);
  std::string human = fmt::format("usage of {} from {} to {} by {}\n",
                                  all ? std::string("every tenant") : "tenant " + report.tenant,
                                  report.from, report.to, report.by);
  human += fmt::format("{:<36} {:>9} {:>12} {:>12} {:>12} {:>7} {:>9} {:>8} {:>8}\n",
                       report.by == "day"     ? "DAY"
                       : report.by == "agent" ? "AGENT"
                                              : "MODEL",
                       "REQUESTS", "PROMPT", "COMPLETION", "COST", "ERRORS", "CANCELLED",
                       "REFUSALS", "BUDGET");
  store::usage_line total;
  for (const auto& l : report.lines) {
    human += row_text(l.key.empty() ? "(no call)" : l.key, l);
    total += l;
  }
  human += row_text("TOTAL", total);
  human.pop_back();
  inv.out.result(admin::to_json(report), human);
  return 0;
}

}  // namespace parley::cli
