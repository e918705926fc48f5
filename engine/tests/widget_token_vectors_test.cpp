// Widget tokens against every shared test vector (shared/test-vectors/widget_token.json),
// the same vectors the module's tests check through nginx: a verifier written here from
// the contract of shared/parley_widget_token.h (OpenSSL's HMAC, a strict base64url
// decoder, independent of the engine's code) holds against them; the engine mints the
// valid ones byte for byte and only tokens that verifier accepts; and the engine's
// limits are the header's.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "config/key_ring.hpp"
#include "shared/parley_widget_token.h"
#include "widget/origin.hpp"
#include "widget/token.hpp"

#include "shared_vectors.hpp"

namespace parley::widget {
namespace {

using json = nlohmann::json;

const json& vectors() {
  static const json v = test::read_shared_vectors("widget_token.json");
  return v;
}

std::vector<config::ring_key> ring() { return test::ring_of(vectors()); }

std::int64_t skew() { return vectors().at("skew"); }

// -- the contract's verifier ---------------------------------------------------------

constexpr std::int64_t time_max = 253402300799;  // the end of year 9999

// Strict base64url: the URL alphabet, no padding, unused bits zero.
std::optional<std::string> base64url_decode(std::string_view in) {
  static constexpr std::string_view alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (const char c : in) {
    const auto v = alphabet.find(c);
    if (v == std::string_view::npos) return std::nullopt;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
      acc &= (1u << bits) - 1;
    }
  }
  if (bits >= 6 || acc != 0) return std::nullopt;
  return out;
}

std::string hmac_sha256(const std::string& key, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &len);
  return std::string(reinterpret_cast<const char*>(mac), len);
}

bool is_token(const json& v) {  // [A-Za-z0-9_-]{1,64}
  if (!v.is_string()) return false;
  const auto& s = v.get_ref<const std::string&>();
  return !s.empty() && s.size() <= 64 && std::ranges::all_of(s, [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
  });
}

bool is_uuid(const json& v) {  // lowercase
  if (!v.is_string()) return false;
  const auto& s = v.get_ref<const std::string&>();
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
      return false;
    }
  }
  return true;
}

bool is_time(const json& v) {
  return v.is_number_integer() && v.get<std::int64_t>() >= 0 && v.get<std::int64_t>() <= time_max;
}

bool is_plan_value(const json& v, std::int64_t min) {
  return v.is_number_integer() && v.get<std::int64_t>() >= min &&
         v.get<std::int64_t>() <= PARLEY_WIDGET_PLAN_MAX;
}

// pln: absent, or an object of rpm (at least 1), burst and streams (at least 0) only.
bool is_plan(const json& c) {
  const auto pln = c.find("pln");
  if (pln == c.end()) return true;
  if (!pln->is_object()) return false;
  for (const auto& [name, value] : pln->items()) {
    const std::int64_t min = name == "rpm" ? 1 : 0;
    if ((name != "rpm" && name != "burst" && name != "streams") || !is_plan_value(value, min))
      return false;
  }
  return true;
}

// The reason a token is refused at `now`, checked in the contract's order, or "valid".
std::string verify(const std::string& token, std::int64_t now, json* claims = nullptr) {
  if (token.empty() || token.size() > PARLEY_WIDGET_TOKEN_MAX_LEN) return "malformed";
  const auto dot1 = token.find('.');
  const auto dot2 = dot1 == std::string::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string::npos || token.find('.', dot2 + 1) != std::string::npos) {
    return "malformed";
  }
  const std::string_view t(token);
  const auto header_text = base64url_decode(t.substr(0, dot1));
  if (!header_text) return "malformed";
  const auto header = json::parse(*header_text, nullptr, false);
  if (!header.is_object()) return "malformed";
  if (header.value("alg", json()) != PARLEY_WIDGET_TOKEN_ALG) return "algorithm";
  for (const auto& [name, value] : header.items()) {
    if (name == "alg" || name == "kid") continue;
    if (name == "typ" && value == PARLEY_WIDGET_TOKEN_TYP) continue;
    return "malformed";
  }
  if (!is_token(header.value("kid", json()))) return "malformed";
  const auto keys = ring();
  const auto key =
      std::ranges::find(keys, header.at("kid").get<std::string>(), &config::ring_key::kid);
  if (key == keys.end()) return "unknown_key";

  const auto sig = base64url_decode(t.substr(dot2 + 1));
  if (!sig || sig->size() != 32) return "malformed";
  const auto mac = hmac_sha256(key->secret, t.substr(0, dot2));
  if (CRYPTO_memcmp(mac.data(), sig->data(), 32) != 0) return "signature";

  const auto payload_text = base64url_decode(t.substr(dot1 + 1, dot2 - dot1 - 1));
  if (!payload_text) return "malformed";
  const auto c = json::parse(*payload_text, nullptr, false);
  if (!c.is_object()) return "claims";
  if (c.value("aud", json()) != PARLEY_WIDGET_TOKEN_AUDIENCE) return "claims";
  const auto iss = c.value("iss", json());
  if (!iss.is_string() || iss.get_ref<const std::string&>().empty()) return "claims";
  const auto org = c.value("org", json());
  if (!org.is_string() || org.get_ref<const std::string&>().empty() ||
      org.get_ref<const std::string&>().size() > PARLEY_ORIGIN_MAX) {
    return "claims";
  }
  if (!is_uuid(c.value("tid", json())) || !is_token(c.value("sid", json())) ||
      !is_token(c.value("agt", json())) || !is_plan(c)) {
    return "claims";
  }
  for (const char* name : {"iat", "nbf", "exp"}) {
    if (!is_time(c.value(name, json()))) return "claims";
  }
  const std::int64_t iat = c.at("iat"), nbf = c.at("nbf"), exp = c.at("exp");
  if (exp <= iat || exp - iat > PARLEY_WIDGET_TOKEN_LIFETIME_MAX) return "lifetime";
  if (exp + skew() <= now) return "expired";
  if (nbf > now + skew() || iat > now + skew()) return "not_yet_valid";
  if (claims) *claims = c;
  return "valid";
}

store::tenant_plan plan_of(const json& c) {
  const auto pln = c.value("pln", json::object());
  const auto member = [&](const char* name) -> std::optional<std::int64_t> {
    if (!pln.contains(name)) return std::nullopt;
    return pln.at(name).get<std::int64_t>();
  };
  return {member("rpm"), member("burst"), member("streams")};
}

token_claims mint_claims(const json& c) {
  return {c.at("iss"),
          c.at("tid"),
          c.at("sid"),
          c.at("agt"),
          c.at("org"),
          c.at("iat"),
          c.at("exp").get<std::int64_t>() - c.at("iat").get<std::int64_t>(),
          plan_of(c)};
}

// -- the vectors ---------------------------------------------------------------------

TEST(WidgetTokenVectors, ArePresent) {
  EXPECT_GE(vectors().at("valid").size(), 4u);
  EXPECT_GE(vectors().at("invalid").size(), 20u);
  std::vector<std::string> reasons;
  for (const auto& v : vectors().at("invalid")) reasons.push_back(v.at("reason"));
  for (const char* reason : {"malformed", "algorithm", "unknown_key", "signature", "claims",
                             "lifetime", "expired", "not_yet_valid"}) {
    EXPECT_NE(std::ranges::find(reasons, reason), reasons.end()) << reason;
  }
  // the plan: valid ones with and without it, and malformed ones refused
  const auto has_plan = [](const json& v) { return v.at("claims").contains("pln"); };
  EXPECT_TRUE(std::ranges::any_of(vectors().at("valid"), has_plan));
  EXPECT_TRUE(std::ranges::any_of(vectors().at("invalid"), [](const json& v) {
    return v.at("name").get<std::string>().find("pln") != std::string::npos;
  }));
}

TEST(WidgetTokenVectors, TheVerifierAcceptsEveryValidOneWithItsClaims) {
  for (const auto& v : vectors().at("valid")) {
    json claims;
    EXPECT_EQ(verify(v.at("token"), v.at("now"), &claims), "valid") << v.at("name");
    EXPECT_EQ(claims, v.at("claims")) << v.at("name");
  }
}

TEST(WidgetTokenVectors, TheVerifierRefusesEveryInvalidOneForItsReason) {
  for (const auto& v : vectors().at("invalid")) {
    EXPECT_EQ(verify(v.at("token"), v.at("now")), v.at("reason").get<std::string>())
        << v.at("name");
  }
}

TEST(WidgetTokenVectors, TheEngineMintsEveryValidOne) {
  for (const auto& v : vectors().at("valid")) {
    const auto keys = ring();
    const auto key =
        std::ranges::find(keys, v.at("kid").get<std::string>(), &config::ring_key::kid);
    ASSERT_NE(key, keys.end()) << v.at("name");
    EXPECT_EQ(mint_token(*key, mint_claims(v.at("claims"))), v.at("token").get<std::string>())
        << v.at("name");
  }
}

TEST(WidgetTokenVectors, WhatTheEngineMintsTheVerifierAccepts) {
  const auto& c = vectors().at("valid").at(0).at("claims");
  token_claims claims = mint_claims(c);
  claims.ttl_s = token_ttl_max_s;
  const auto token = mint_token(ring().back(), claims);
  const std::int64_t iat = c.at("iat");
  EXPECT_EQ(verify(token, iat), "valid");
  EXPECT_EQ(verify(token, iat + token_ttl_max_s + skew() - 1), "valid");
  EXPECT_EQ(verify(token, iat + token_ttl_max_s + skew()), "expired");

  // a longer lifetime than the contract's is no token the edge takes
  claims.ttl_s = token_ttl_max_s + 1;
  EXPECT_EQ(verify(mint_token(ring().back(), claims), iat), "lifetime");
}

// -- the engine's limits are the header's ---------------------------------------------

TEST(WidgetTokenVectors, TheEnginesLimitsAreTheSharedHeaders) {
  EXPECT_EQ(token_audience, PARLEY_WIDGET_TOKEN_AUDIENCE);
  EXPECT_EQ(token_ttl_max_s, PARLEY_WIDGET_TOKEN_LIFETIME_MAX);
  EXPECT_EQ(token_ttl_max_s, 15 * 60);  // SPEC 3.1

  // the key ring: a secret of the minimum length is one, a byte shorter is not
  const std::string at_min(PARLEY_WIDGET_SECRET_MIN, 's');
  EXPECT_TRUE(config::parse_key_ring("k " + at_min + "\n").problems.empty());
  EXPECT_FALSE(config::parse_key_ring("k " + at_min.substr(1) + "\n").problems.empty());

  // the vectors' ring is one the engine reads, and it mints with its last key
  std::string file;
  for (const auto& k : ring()) file += k.kid + " " + k.secret + "\n";
  const auto parsed = config::parse_key_ring(file);
  ASSERT_TRUE(parsed.problems.empty());
  EXPECT_EQ(parsed.keys.back().kid, ring().back().kid);

  // origins: the longest the edge takes is the longest a tenant may list
  std::string longest = "https://";
  while (longest.size() < PARLEY_ORIGIN_MAX) longest += (longest.size() % 60 == 59) ? '.' : 'a';
  ASSERT_EQ(longest.size(), static_cast<std::size_t>(PARLEY_ORIGIN_MAX));
  EXPECT_TRUE(is_valid_origin(longest)) << origin_problem(longest).value_or("");
  EXPECT_FALSE(is_valid_origin(longest + "a"));
  for (const auto& v : vectors().at("valid")) {
    const std::string org = v.at("claims").at("org");
    EXPECT_TRUE(is_valid_origin(org)) << org;
  }
}

}  // namespace
}  // namespace parley::widget
