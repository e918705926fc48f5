#include "widget/token.hpp"

#include <nlohmann/json.hpp>

#include "base/crypto.hpp"

namespace parley::widget {

std::string mint_token(const config::ring_key& key, const token_claims& c) {
  const nlohmann::json header = {
      {"alg", PARLEY_WIDGET_TOKEN_ALG}, {"typ", PARLEY_WIDGET_TOKEN_TYP}, {"kid", key.kid}};
  const nlohmann::json payload = {
      {"iss", c.issuer},     {"aud", token_audience}, {"tid", c.tenant_id},
      {"sid", c.session_id}, {"agt", c.agent},        {"org", c.origin},
      {"iat", c.issued_at},  {"nbf", c.issued_at},    {"exp", c.issued_at + c.ttl_s}};
  // Every value is ASCII checked upstream (UUIDs, agent codes, validated origins),
  // so the strict dump cannot throw here.
  std::string out = base::base64url(header.dump()) + "." + base::base64url(payload.dump());
  out += "." + base::base64url(base::hmac_sha256(key.secret, out));
  return out;
}

}  // namespace parley::widget
