#pragma once

// Widget tokens (SPEC 3.1, shared/parley_widget_token.h): compact JWS, HS256 only,
// header {"alg":"HS256","kid":..,"typ":"JWT"}, claims iss, aud "parley-widget", tid,
// sid, agt, org, iat, nbf (= iat), exp (= iat + ttl). The engine only mints them;
// the edge verifies them locally with the same key ring. The contract's values come
// from the shared header, which the module includes too; both sides check
// shared/test-vectors/widget_token.json.

#include <cstdint>
#include <string>
#include <string_view>

#include "config/key_ring.hpp"
#include "shared/parley_widget_token.h"

namespace parley::widget {

inline constexpr std::string_view token_audience = PARLEY_WIDGET_TOKEN_AUDIENCE;
inline constexpr std::int64_t token_ttl_max_s = PARLEY_WIDGET_TOKEN_LIFETIME_MAX;

struct token_claims {
  std::string issuer;
  std::string tenant_id;
  std::string session_id;
  std::string agent;           // agent code
  std::string origin;          // the browser Origin the token was issued to
  std::int64_t issued_at = 0;  // unix seconds
  std::int64_t ttl_s = 600;
};

// header.payload.signature, each base64url without padding, signed with `key`.
std::string mint_token(const config::ring_key& key, const token_claims& claims);

}  // namespace parley::widget
