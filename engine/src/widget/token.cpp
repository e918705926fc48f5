#include "widget/token.hpp"

#include <algorithm>

#include "widget/jws.hpp"

namespace parley::widget {

namespace {

// The edge refuses a credential whose plan is out of its bounds (its GCRA arithmetic
// stays far from overflow): a larger value, which the admin API allows, is minted as
// the largest the edge takes, a limit far above any real traffic anyway.
std::int64_t plan_value(std::int64_t value, std::int64_t min) {
  return std::clamp(value, min, plan_value_max);
}

bool is_plan_value(const nlohmann::json& v, std::int64_t min) {
  if (!v.is_number_integer()) return false;
  // Parsed text holds a non-negative number as unsigned, which may exceed int64.
  if (v.is_number_unsigned()) {
    const auto u = v.get<std::uint64_t>();
    return u >= static_cast<std::uint64_t>(min) && u <= static_cast<std::uint64_t>(plan_value_max);
  }
  const auto i = v.get<std::int64_t>();
  return i >= min && i <= plan_value_max;
}

}  // namespace

std::optional<nlohmann::json> plan_claim(const store::tenant_plan& plan) {
  auto pln = nlohmann::json::object();
  if (plan.rate_rpm) pln["rpm"] = plan_value(*plan.rate_rpm, 1);
  if (plan.rate_burst) pln["burst"] = plan_value(*plan.rate_burst, 0);
  if (plan.max_streams) pln["streams"] = plan_value(*plan.max_streams, 0);
  if (pln.empty()) return std::nullopt;
  return pln;
}

std::optional<store::tenant_plan> read_plan_claim(const nlohmann::json& claims) {
  const auto pln = claims.find("pln");
  if (pln == claims.end()) return store::tenant_plan{};
  if (!pln->is_object()) return std::nullopt;
  store::tenant_plan plan;
  for (const auto& [name, value] : pln->items()) {
    auto* member = name == "rpm"       ? &plan.rate_rpm
                   : name == "burst"   ? &plan.rate_burst
                   : name == "streams" ? &plan.max_streams
                                       : nullptr;
    if (member == nullptr || !is_plan_value(value, name == "rpm" ? 1 : 0)) return std::nullopt;
    *member = value.get<std::int64_t>();
  }
  return plan;
}

std::string mint_token(const config::ring_key& key, const token_claims& c) {
  // Every value is ASCII checked upstream (UUIDs, agent codes, validated origins),
  // so the strict dump cannot throw here.
  nlohmann::json claims = {
      {"iss", c.issuer},     {"aud", token_audience}, {"tid", c.tenant_id},
      {"sid", c.session_id}, {"agt", c.agent},        {"org", c.origin},
      {"iat", c.issued_at},  {"nbf", c.issued_at},    {"exp", c.issued_at + c.ttl_s}};
  if (auto pln = plan_claim(c.plan)) claims["pln"] = std::move(*pln);
  return sign_jws(key, claims);
}

}  // namespace parley::widget
