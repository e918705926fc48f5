#include "widget/credentials.hpp"

#include "edge/identity.hpp"
#include "widget/jws.hpp"
#include "widget/token.hpp"

namespace parley::widget {

namespace {

using json = nlohmann::json;

constexpr std::int64_t clock_skew_s = 30;

json base_claims(const credential_base& b, std::string_view audience) {
  return {
      {"iss", b.issuer},    {"aud", audience},    {"tid", b.tenant_id},          {"org", b.origin},
      {"iat", b.issued_at}, {"nbf", b.issued_at}, {"exp", b.issued_at + b.ttl_s}};
}

// The common claims of a valid credential of `audience`, and the whole claims object.
std::optional<std::pair<credential_base, json>> read_base(const std::vector<config::ring_key>& ring,
                                                          std::string_view text,
                                                          std::string_view audience,
                                                          std::int64_t now, std::int64_t max_ttl) {
  auto verified = verify_jws(ring, text, {audience, now, clock_skew_s, max_ttl});
  if (!verified.claims) return std::nullopt;
  const json& c = *verified.claims;
  const auto iss = c.find("iss");
  const auto tid = c.find("tid");
  const auto org = c.find("org");
  if (iss == c.end() || !iss->is_string() || tid == c.end() || !tid->is_string() ||
      !edge::is_lower_uuid(tid->get_ref<const std::string&>()) || org == c.end() ||
      !org->is_string() || org->get_ref<const std::string&>().empty())
    return std::nullopt;
  const auto iat = c["iat"].get<std::int64_t>();
  credential_base b{iss->get<std::string>(), tid->get<std::string>(), org->get<std::string>(), iat,
                    c["exp"].get<std::int64_t>() - iat};
  return std::pair{std::move(b), std::move(*verified.claims)};
}

}  // namespace

std::string mint_stream_id(const config::ring_key& key, const stream_claims& c) {
  auto claims = base_claims(c.base, stream_audience);
  claims["sid"] = c.session_id;
  claims["agt"] = c.agent;
  claims["sti"] = c.stream_key;
  if (auto pln = plan_claim(c.plan)) claims["pln"] = std::move(*pln);
  return sign_jws(key, claims);
}

std::string mint_ticket(const config::ring_key& key, const ticket_claims& c) {
  auto claims = base_claims(c.base, ticket_audience);
  claims["key"] = c.key_id;
  if (c.agent) claims["agt"] = *c.agent;
  return sign_jws(key, claims);
}

std::string mint_resume(const config::ring_key& key, const resume_claims& c) {
  auto claims = base_claims(c.base, resume_audience);
  claims["sid"] = c.session_id;
  claims["agt"] = c.agent;
  return sign_jws(key, claims);
}

std::optional<stream_claims> read_stream_id(const std::vector<config::ring_key>& ring,
                                            std::string_view text, std::int64_t now) {
  auto read = read_base(ring, text, stream_audience, now, token_ttl_max_s);
  if (!read) return std::nullopt;
  auto sid = token_claim(read->second, "sid");
  auto agt = token_claim(read->second, "agt");
  auto sti = token_claim(read->second, "sti");
  // refused as the edge refuses it: no stream id one side takes is bad to the other
  auto plan = read_plan_claim(read->second);
  if (!sid || !agt || !sti || !plan) return std::nullopt;
  return stream_claims{std::move(read->first), std::move(*sid), std::move(*agt), std::move(*sti),
                       std::move(*plan)};
}

std::optional<ticket_claims> read_ticket(const std::vector<config::ring_key>& ring,
                                         std::string_view text, std::int64_t now) {
  auto read = read_base(ring, text, ticket_audience, now, ticket_ttl_s);
  if (!read) return std::nullopt;
  const auto key = read->second.find("key");
  if (key == read->second.end() || !key->is_string() ||
      !edge::is_lower_uuid(key->get_ref<const std::string&>()))
    return std::nullopt;
  std::optional<std::string> agent;
  if (read->second.contains("agt")) {
    agent = token_claim(read->second, "agt");
    if (!agent) return std::nullopt;
  }
  return ticket_claims{std::move(read->first), key->get<std::string>(), std::move(agent)};
}

std::optional<resume_claims> read_resume(const std::vector<config::ring_key>& ring,
                                         std::string_view text, std::int64_t now) {
  auto read = read_base(ring, text, resume_audience, now, resume_ttl_max_s);
  if (!read) return std::nullopt;
  auto sid = token_claim(read->second, "sid");
  auto agt = token_claim(read->second, "agt");
  if (!sid || !agt) return std::nullopt;
  return resume_claims{std::move(read->first), std::move(*sid), std::move(*agt)};
}

}  // namespace parley::widget
