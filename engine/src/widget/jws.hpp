#pragma once

// The widget's signed credentials as compact JWS (shared/parley_widget_token.h):
// HS256 only, header {"alg":"HS256","kid":..,"typ":"JWT"}, claims a JSON object
// serialized with sorted keys and no spaces, each part base64url without padding.
// Widget tokens, stream ids, bootstrap tickets and resume credentials are all of this
// form; their audiences ("aud") keep any one from being taken for another.
//
// The edge verifies tokens and stream ids; the engine verifies what comes back to it
// (stream ids, tickets, resume credentials) against the whole key ring, so a key
// rotation never strands a credential minted with the previous key.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/key_ring.hpp"

namespace parley::widget {

// header.claims.signature with `key`; claims must be an object of ASCII values.
std::string sign_jws(const config::ring_key& key, const nlohmann::json& claims);

// Why a credential was refused, in the order the checks run (the edge's order).
enum class jws_error : std::uint8_t {
  malformed,
  algorithm,
  unknown_key,
  signature,
  claims,  // not an object, or another audience, or iat/nbf/exp missing
  lifetime,
  expired,
  not_yet_valid,
};

// "malformed", "algorithm", ...: the names the shared test vectors use.
std::string_view to_string(jws_error e) noexcept;

struct jws_check {
  std::string_view audience;
  std::int64_t now = 0;       // unix seconds
  std::int64_t skew = 30;     // the verifier's allowance for clocks that differ
  std::int64_t max_lifetime;  // exp - iat at most
};

struct jws_result {
  std::optional<nlohmann::json> claims;    // set when valid
  jws_error error = jws_error::malformed;  // why, when not
};

// Verifies `token` against every key of `ring` (found by the header's kid).
jws_result verify_jws(const std::vector<config::ring_key>& ring, std::string_view token,
                      const jws_check& check);

// The claim `name` when it is a string of 1 to `max` characters of [A-Za-z0-9_-].
std::optional<std::string> token_claim(const nlohmann::json& claims, std::string_view name,
                                       std::size_t max = 64);

}  // namespace parley::widget
