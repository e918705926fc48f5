#include "admin/usage_report.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cstdio>

#include "admin/service.hpp"
#include "store/db.hpp"

namespace parley::admin {

namespace {

using std::chrono::year_month_day;

constexpr int max_usage_days = 366;

refusal invalid_usage(std::string code, const std::string& message) {
  return {refusal::reason::invalid, std::move(code), message};
}

std::string text_of(year_month_day d) {
  return fmt::format("{:04}-{:02}-{:02}", static_cast<int>(d.year()),
                     static_cast<unsigned>(d.month()), static_cast<unsigned>(d.day()));
}

year_month_day parse_day(const std::string& field, const std::string& text) {
  int y = 0;
  unsigned m = 0, d = 0;
  char rest = 0;
  if (text.size() != 10 || std::sscanf(text.c_str(), "%4d-%2u-%2u%c", &y, &m, &d, &rest) != 3) {
    throw invalid_usage("invalid_" + field, field + " must be a date written YYYY-MM-DD");
  }
  const year_month_day day{std::chrono::year(y), std::chrono::month(m), std::chrono::day(d)};
  if (!day.ok()) throw invalid_usage("invalid_" + field, field + " is not a date: " + text);
  return day;
}

store::usage_grouping grouping_of(const std::string& by) {
  if (by == "day") return store::usage_grouping::day;
  if (by == "agent") return store::usage_grouping::agent;
  if (by == "model") return store::usage_grouping::model;
  throw invalid_usage("invalid_by", "by must be day, agent or model");
}

nlohmann::json line_json(const store::usage_line& l) {
  return {{"requests", l.requests},
          {"prompt_tokens", l.prompt_tokens},
          {"completion_tokens", l.completion_tokens},
          {"total_tokens", l.prompt_tokens + l.completion_tokens},
          {"cost", l.cost},
          {"errors", l.errors},
          {"cancelled", l.cancelled},
          {"refusals", l.refusals},
          {"budget_refusals", l.budget_refusals}};
}

// The report's span, checked: this month so far by default.
usage_report span_of(const usage_query& q, std::string slug, std::string by) {
  const year_month_day today{
      std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now())};
  const auto from = q.from ? parse_day("from", *q.from) : today.year() / today.month() / 1;
  const auto to = q.to ? parse_day("to", *q.to) : today;
  const auto span = std::chrono::sys_days(to) - std::chrono::sys_days(from);
  if (span.count() < 0) throw invalid_usage("invalid_to", "to must not be before from");
  if (span.count() >= max_usage_days) {
    throw invalid_usage("invalid_to", fmt::format("at most {} days at once", max_usage_days));
  }
  return {std::move(slug), text_of(from), text_of(to), std::move(by), {}};
}

}  // namespace

usage_report read_usage_report(store::database& db, const std::string& tenant_id,
                               const std::string& slug, const usage_query& q) {
  const auto by = q.by.value_or("day");
  const auto grouping = grouping_of(by);
  auto r = span_of(q, slug, by);
  r.lines = db.with_tenant(tenant_id, [&](store::transaction& tx) {
    return store::read_usage(tx, r.from, r.to, grouping);
  });
  return r;
}

usage_report read_usage_across_tenants(store::database& reporting, const usage_query& q) {
  auto r = span_of(q, "", "tenant");
  r.lines = reporting.with_platform([&](store::transaction& tx) {
    return store::read_usage(tx, r.from, r.to, store::usage_grouping::tenant);
  });
  return r;
}

nlohmann::json to_json(const usage_report& r) {
  nlohmann::json data = nlohmann::json::array();
  store::usage_line total;
  for (const auto& l : r.lines) {
    auto line = line_json(l);
    line[r.by] = l.key;
    data.push_back(std::move(line));
    total += l;
  }
  return {{"object", "usage"},
          {"tenant", r.tenant.empty() ? nlohmann::json() : nlohmann::json(r.tenant)},
          {"from", r.from},
          {"to", r.to},
          {"by", r.by},
          {"data", data},
          {"total", line_json(total)}};
}

}  // namespace parley::admin
