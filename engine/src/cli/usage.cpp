// parley usage --tenant SLUG [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--by day|agent|model] [--json]
//
// A tenant's requests, tokens, cost, errors and refusals per UTC day, agent or
// model (admin/usage_report.hpp): the same report as
// GET /admin/v1/tenants/{slug}/usage.

#include <fmt/format.h>

#include "cli/admin_session.hpp"

namespace parley::cli {

namespace {

std::string row_text(std::string_view key, const store::usage_line& l) {
  return fmt::format("{:<36} {:>9} {:>12} {:>12} {:>12.6f} {:>7} {:>9} {:>8} {:>8}\n", key,
                     l.requests, l.prompt_tokens, l.completion_tokens, l.cost, l.errors,
                     l.cancelled, l.refusals, l.budget_refusals);
}

}  // namespace

int usage(const invocation& inv) {
  inv.opts.allow_only({"config", "json", "tenant", "from", "to", "by"});
  const std::string slug = inv.opts.require("tenant");
  const admin::usage_query q{inv.opts.get("from"), inv.opts.get("to"), inv.opts.get("by")};
  const auto report = admin_session(inv)->usage(slug, q);
  std::string human = fmt::format("usage of tenant {} from {} to {} by {}\n", report.tenant,
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
