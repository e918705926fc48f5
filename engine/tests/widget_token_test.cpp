// Widget tokens: decoded and verified here independently of the minting code
// (OpenSSL's own base64 and HMAC), as the edge would verify them.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>

#include "config/key_ring.hpp"
#include "widget/token.hpp"

namespace parley::widget {
namespace {

using json = nlohmann::json;

std::vector<std::string> split_dots(const std::string& token) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (auto dot = token.find('.'); dot != std::string::npos; dot = token.find('.', start)) {
    parts.push_back(token.substr(start, dot - start));
    start = dot + 1;
  }
  parts.push_back(token.substr(start));
  return parts;
}

std::string base64url_decode(std::string text) {
  EXPECT_EQ(text.find('='), std::string::npos) << "base64url must not be padded";
  std::ranges::replace(text, '-', '+');
  std::ranges::replace(text, '_', '/');
  const std::size_t pad = (4 - text.size() % 4) % 4;
  text.append(pad, '=');
  std::string out(text.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  EXPECT_GE(n, 0);
  out.resize(static_cast<std::size_t>(n) - pad);
  return out;
}

std::string hmac(const std::string& key, const std::string& data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &len);
  return std::string(reinterpret_cast<const char*>(mac), len);
}

const token_claims claims{"parley",
                          "3f1c9a52-8b0e-4d7a-9c61-2e5b7f0a4d13",
                          "9b2e4c71-0d3a-4f58-a6e2-7c1d5b8f3e90",
                          "support",
                          "https://shop.example.com",
                          1'700'000'000,
                          600,
                          {}};

TEST(WidgetToken, MintsAnHs256JwtWithTheRingsLastKey) {
  const auto ring = config::parse_key_ring("old " + std::string(40, 'o') + "\nnew " +
                                           std::string(48, 'n') + "\n");
  ASSERT_TRUE(ring.problems.empty());
  const auto token = mint_token(ring.keys.back(), claims);

  const auto parts = split_dots(token);
  ASSERT_EQ(parts.size(), 3u);
  const auto header = json::parse(base64url_decode(parts[0]));
  EXPECT_EQ(header, json({{"alg", "HS256"}, {"typ", "JWT"}, {"kid", "new"}}));

  const auto payload = json::parse(base64url_decode(parts[1]));
  EXPECT_EQ(payload.at("iss"), "parley");
  EXPECT_EQ(payload.at("aud"), "parley-widget");
  EXPECT_EQ(payload.at("tid"), claims.tenant_id);
  EXPECT_EQ(payload.at("sid"), claims.session_id);
  EXPECT_EQ(payload.at("agt"), "support");
  EXPECT_EQ(payload.at("org"), "https://shop.example.com");
  EXPECT_EQ(payload.at("iat"), 1'700'000'000);
  EXPECT_EQ(payload.at("nbf"), payload.at("iat"));
  EXPECT_EQ(payload.at("exp").get<std::int64_t>() - payload.at("iat").get<std::int64_t>(), 600);
  EXPECT_EQ(payload.size(), 9u);  // nothing else is claimed

  const std::string signing_input = parts[0] + "." + parts[1];
  EXPECT_EQ(base64url_decode(parts[2]), hmac(std::string(48, 'n'), signing_input));
  EXPECT_NE(base64url_decode(parts[2]), hmac(std::string(40, 'o'), signing_input));
}

TEST(WidgetToken, TheLifetimeFollowsTheConfiguredTtl) {
  token_claims c = claims;
  c.ttl_s = token_ttl_max_s;
  const auto parts = split_dots(mint_token({"k", std::string(32, 'k')}, c));
  const auto payload = json::parse(base64url_decode(parts.at(1)));
  EXPECT_EQ(payload.at("exp").get<std::int64_t>() - payload.at("iat").get<std::int64_t>(), 900);
}

json payload_of(const token_claims& c) {
  const auto parts = split_dots(mint_token({"k", std::string(32, 'k')}, c));
  return json::parse(base64url_decode(parts.at(1)));
}

TEST(WidgetToken, ClaimsThePlansLimitsOnlyWhenItSetsThem) {
  EXPECT_FALSE(payload_of(claims).contains("pln"));  // no plan: the edge's defaults

  token_claims c = claims;
  c.plan = {3, 1, 2};
  EXPECT_EQ(payload_of(c).at("pln"), json({{"rpm", 3}, {"burst", 1}, {"streams", 2}}));

  c.plan = {std::nullopt, std::nullopt, 1};
  EXPECT_EQ(payload_of(c).at("pln"), json({{"streams", 1}}));
  c.plan = {600, std::nullopt, std::nullopt};
  EXPECT_EQ(payload_of(c).at("pln"), json({{"rpm", 600}}));
}

TEST(WidgetToken, ThePlanIsSortedLikeTheRestOfTheClaims) {
  // the edge verifies any order, but minting is byte for byte the vectors' rule
  EXPECT_EQ(plan_claim({3, 1, 2})->dump(), R"({"burst":1,"rpm":3,"streams":2})");
  EXPECT_FALSE(plan_claim({}));
}

TEST(WidgetToken, APlanBeyondTheEdgesBoundIsClaimedAtTheBound) {
  // the admin API allows rates up to 10^9; the edge refuses a pln above its bound
  const auto pln = plan_claim({1'000'000'000, 1'000'000'000, 1'000'000});
  ASSERT_TRUE(pln);
  EXPECT_EQ(pln->at("rpm"), plan_value_max);
  EXPECT_EQ(pln->at("burst"), plan_value_max);
  EXPECT_EQ(pln->at("streams"), 1'000'000);
  EXPECT_EQ(plan_value_max, PARLEY_WIDGET_PLAN_MAX);
}

TEST(WidgetToken, TheSignatureCoversHeaderAndPayload) {
  const config::ring_key key{"k1", std::string(32, 's')};
  token_claims other = claims;
  other.session_id = "0d4f2a6e-5b1c-4e8d-9a73-6f0b2c8e1d57";
  const auto a = split_dots(mint_token(key, claims));
  const auto b = split_dots(mint_token(key, other));
  EXPECT_EQ(a[0], b[0]);
  EXPECT_NE(a[1], b[1]);
  EXPECT_NE(a[2], b[2]);
  EXPECT_EQ(base64url_decode(b[2]), hmac(key.secret, b[0] + "." + b[1]));
}

}  // namespace
}  // namespace parley::widget
