#pragma once

// Widget tokens (SPEC 3.1, CONTRACTS "Issue 3 additions"): compact JWS, HS256 only,
// header {"alg":"HS256","kid":..,"typ":"JWT"}, claims iss, aud "parley-widget", tid,
// sid, agt, org, iat, nbf (= iat), exp (= iat + ttl). The engine only mints them;
// the edge verifies them locally with the same key ring.

#include <cstdint>
#include <string>
#include <string_view>

#include "config/key_ring.hpp"

namespace parley::widget {

inline constexpr std::string_view token_audience = "parley-widget";
inline constexpr std::int64_t token_ttl_max_s = 900;   // SPEC 3.1: exp <= 15 min

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
