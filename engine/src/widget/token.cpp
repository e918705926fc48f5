#include "widget/token.hpp"

#include "widget/jws.hpp"

namespace parley::widget {

std::string mint_token(const config::ring_key& key, const token_claims& c) {
  // Every value is ASCII checked upstream (UUIDs, agent codes, validated origins),
  // so the strict dump cannot throw here.
  return sign_jws(key, {{"iss", c.issuer},
                        {"aud", token_audience},
                        {"tid", c.tenant_id},
                        {"sid", c.session_id},
                        {"agt", c.agent},
                        {"org", c.origin},
                        {"iat", c.issued_at},
                        {"nbf", c.issued_at},
                        {"exp", c.issued_at + c.ttl_s}});
}

}  // namespace parley::widget
