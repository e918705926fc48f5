#include "widget/jws.hpp"

#include <algorithm>

#include "base/crypto.hpp"
#include "shared/parley_widget_token.h"

namespace parley::widget {

namespace {

using json = nlohmann::json;

struct parts {
  std::string_view header, claims, signature, signed_text;
};

std::optional<parts> split(std::string_view token) {
  const auto first = token.find('.');
  if (first == std::string_view::npos) return std::nullopt;
  const auto second = token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos)
    return std::nullopt;
  return parts{token.substr(0, first), token.substr(first + 1, second - first - 1),
               token.substr(second + 1), token.substr(0, second)};
}

std::optional<json> decode_object(std::string_view part) {
  const auto bytes = base::base64url_decode(part);
  if (!bytes) return std::nullopt;
  auto value = json::parse(*bytes, nullptr, false);
  if (value.is_discarded() || !value.is_object()) return std::nullopt;
  return value;
}

bool is_token_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

// alg pinned to HS256; any member but alg, kid and typ asks for processing this
// verifier does not do (crit among them), so it is refused, as at the edge.
std::optional<jws_error> check_header(const json& header, std::string& kid) {
  const auto alg = header.find("alg");
  if (alg == header.end() || *alg != PARLEY_WIDGET_TOKEN_ALG) return jws_error::algorithm;
  for (const auto& [name, value] : header.items()) {
    if (name == "alg" || name == "kid") continue;
    if (name == "typ" && value == PARLEY_WIDGET_TOKEN_TYP) continue;
    return jws_error::malformed;
  }
  const auto found = token_claim(header, "kid");
  if (!found) return jws_error::malformed;
  kid = *found;
  return std::nullopt;
}

const config::ring_key* find_key(const std::vector<config::ring_key>& ring, std::string_view kid) {
  const auto it = std::ranges::find(ring, kid, &config::ring_key::kid);
  return it == ring.end() ? nullptr : &*it;
}

std::optional<std::int64_t> time_claim(const json& claims, const char* name) {
  const auto it = claims.find(name);
  if (it == claims.end() || !it->is_number_integer()) return std::nullopt;
  return it->get<std::int64_t>();
}

std::optional<jws_error> check_times(const json& claims, const jws_check& check) {
  const auto iat = time_claim(claims, "iat");
  const auto nbf = time_claim(claims, "nbf");
  const auto exp = time_claim(claims, "exp");
  if (!iat || !nbf || !exp) return jws_error::claims;
  if (*exp <= *iat || *exp - *iat > check.max_lifetime) return jws_error::lifetime;
  if (*exp + check.skew <= check.now) return jws_error::expired;
  if (*nbf > check.now + check.skew || *iat > check.now + check.skew)
    return jws_error::not_yet_valid;
  return std::nullopt;
}

}  // namespace

std::string_view to_string(jws_error e) noexcept {
  switch (e) {
    case jws_error::malformed: return "malformed";
    case jws_error::algorithm: return "algorithm";
    case jws_error::unknown_key: return "unknown_key";
    case jws_error::signature: return "signature";
    case jws_error::claims: return "claims";
    case jws_error::lifetime: return "lifetime";
    case jws_error::expired: return "expired";
    case jws_error::not_yet_valid: return "not_yet_valid";
  }
  return "unknown";
}

std::string sign_jws(const config::ring_key& key, const json& claims) {
  const json header = {
      {"alg", PARLEY_WIDGET_TOKEN_ALG}, {"typ", PARLEY_WIDGET_TOKEN_TYP}, {"kid", key.kid}};
  // nlohmann's object keeps its keys sorted and dump() adds no spaces: the shared
  // serialization rule, so the edge's test vectors come out byte for byte.
  std::string out = base::base64url(header.dump()) + "." + base::base64url(claims.dump());
  out += "." + base::base64url(base::hmac_sha256(key.secret, out));
  return out;
}

jws_result verify_jws(const std::vector<config::ring_key>& ring, std::string_view token,
                      const jws_check& check) {
  const auto p = split(token);
  if (!p) return {std::nullopt, jws_error::malformed};
  const auto header = decode_object(p->header);
  const auto signature = base::base64url_decode(p->signature);
  if (!header || !signature) return {std::nullopt, jws_error::malformed};
  std::string kid;
  if (const auto e = check_header(*header, kid)) return {std::nullopt, *e};
  const auto* key = find_key(ring, kid);
  if (key == nullptr) return {std::nullopt, jws_error::unknown_key};
  if (!base::constant_time_equal(*signature, base::hmac_sha256(key->secret, p->signed_text)))
    return {std::nullopt, jws_error::signature};
  auto claims = decode_object(p->claims);
  if (!claims) return {std::nullopt, jws_error::claims};
  const auto aud = claims->find("aud");
  if (aud == claims->end() || *aud != check.audience) return {std::nullopt, jws_error::claims};
  if (const auto e = check_times(*claims, check)) return {std::nullopt, *e};
  return {std::move(claims), {}};
}

std::optional<std::string> token_claim(const json& claims, std::string_view name, std::size_t max) {
  const auto it = claims.find(name);
  if (it == claims.end() || !it->is_string()) return std::nullopt;
  const auto& text = it->get_ref<const std::string&>();
  if (text.empty() || text.size() > max || !std::ranges::all_of(text, is_token_char))
    return std::nullopt;
  return text;
}

}  // namespace parley::widget
