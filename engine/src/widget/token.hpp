#pragma once

// Widget tokens (SPEC 3.1, shared/parley_widget_token.h): compact JWS, HS256 only,
// header {"alg":"HS256","kid":..,"typ":"JWT"}, claims iss, aud "parley-widget", tid,
// sid, agt, org, iat, nbf (= iat), exp (= iat + ttl) and pln, the tenant's plan for
// the edge's limits (when it sets any limit). The engine only mints them;
// the edge verifies them locally with the same key ring. The contract's values come
// from the shared header, which the module includes too; both sides check
// shared/test-vectors/widget_token.json.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "config/key_ring.hpp"
#include "shared/parley_widget_token.h"
#include "store/tenant_plan.hpp"

namespace parley::widget {

inline constexpr std::string_view token_audience = PARLEY_WIDGET_TOKEN_AUDIENCE;
inline constexpr std::int64_t token_ttl_max_s = PARLEY_WIDGET_TOKEN_LIFETIME_MAX;
inline constexpr std::int64_t plan_value_max = PARLEY_WIDGET_PLAN_MAX;

struct token_claims {
  std::string issuer;
  std::string tenant_id;
  std::string session_id;
  std::string agent;           // agent code
  std::string origin;          // the browser Origin the token was issued to
  std::int64_t issued_at = 0;  // unix seconds
  std::int64_t ttl_s = 600;
  store::tenant_plan plan;  // as of minting: the edge never asks for it again
};

// header.payload.signature, each base64url without padding, signed with `key`.
std::string mint_token(const config::ring_key& key, const token_claims& claims);

// The pln claim of a widget token or stream id: {"burst","rpm","streams"}, each only
// when the plan sets it; nothing when it sets none.
std::optional<nlohmann::json> plan_claim(const store::tenant_plan& plan);

// The plan of a credential's claims, as strict as the edge: none when pln is absent;
// nothing at all when it is not an object of rpm (at least 1), burst and streams (at
// least 0), each an integer of at most PARLEY_WIDGET_PLAN_MAX.
std::optional<store::tenant_plan> read_plan_claim(const nlohmann::json& claims);

}  // namespace parley::widget
