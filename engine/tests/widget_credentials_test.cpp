// The widget's signed credentials (widget/jws.hpp, widget/credentials.hpp): each
// verifies against the whole key ring, and no kind is ever taken for another.

#include <gtest/gtest.h>

#include "base/crypto.hpp"
#include "widget/credentials.hpp"
#include "widget/jws.hpp"
#include "widget/token.hpp"

namespace parley::widget {
namespace {

const std::vector<config::ring_key> ring{{"old", std::string(32, 'a')},
                                         {"new", std::string(32, 'b')}};
constexpr std::int64_t now = 1'700'000'000;
const std::string tenant = "3f1c9a52-8b0e-4d7a-9c61-2e5b7f0a4d13";

credential_base base_of(std::int64_t ttl) {
  return {"parley", tenant, "https://shop.example", now, ttl};
}

stream_claims a_stream() { return {base_of(600), "sess-1", "support", "k3y", {}}; }

TEST(Base64urlDecode, TakesOnlyTheCanonicalSpelling) {
  EXPECT_EQ(base::base64url_decode(base::base64url("any bytes\xff")), "any bytes\xff");
  EXPECT_EQ(base::base64url_decode(""), "");
  EXPECT_FALSE(base::base64url_decode("YQ="));   // padding
  EXPECT_FALSE(base::base64url_decode("YR"));    // "a" is "YQ": stray low bits
  EXPECT_FALSE(base::base64url_decode("Y"));     // no whole byte
  EXPECT_FALSE(base::base64url_decode("a+b/"));  // base64, not base64url
}

TEST(Jws, VerifiesWithAnyKeyOfTheRing) {
  const auto token =
      sign_jws(ring.front(), {{"aud", "x"}, {"iat", now}, {"nbf", now}, {"exp", now + 60}});
  const auto result = verify_jws(ring, token, {"x", now, 30, 900});
  ASSERT_TRUE(result.claims);
  EXPECT_EQ((*result.claims)["exp"], now + 60);
}

TEST(Jws, SaysWhyItRefuses) {
  const auto claims = nlohmann::json{{"aud", "x"}, {"iat", now}, {"nbf", now}, {"exp", now + 60}};
  const auto token = sign_jws(ring.back(), claims);
  const auto check = [&](std::string_view t, jws_check c = {"x", now, 30, 900}) {
    return verify_jws(ring, t, c).error;
  };
  EXPECT_EQ(check("not a token"), jws_error::malformed);
  EXPECT_EQ(check(token, {"y", now, 30, 900}), jws_error::claims);  // another audience
  EXPECT_EQ(check(token, {"x", now + 91, 30, 900}), jws_error::expired);
  EXPECT_EQ(check(token, {"x", now - 31, 30, 900}), jws_error::not_yet_valid);
  EXPECT_EQ(check(token, {"x", now, 30, 59}), jws_error::lifetime);
  EXPECT_EQ(check(sign_jws({"gone", std::string(32, 'c')}, claims)), jws_error::unknown_key);
  auto tampered = token;
  tampered[tampered.find('.') + 2] ^= 1;
  EXPECT_EQ(check(tampered), jws_error::signature);
  const auto none =
      base::base64url(R"({"alg":"none","kid":"new"})") + "." + base::base64url(claims.dump()) + ".";
  EXPECT_EQ(check(none), jws_error::algorithm);
}

TEST(WidgetCredentials, AStreamIdReadsBackItsClaims) {
  const auto read = read_stream_id(ring, mint_stream_id(ring.back(), a_stream()), now + 1);
  ASSERT_TRUE(read);
  EXPECT_EQ(read->base.tenant_id, tenant);
  EXPECT_EQ(read->base.origin, "https://shop.example");
  EXPECT_EQ(read->session_id, "sess-1");
  EXPECT_EQ(read->agent, "support");
  EXPECT_EQ(read->stream_key, "k3y");
  EXPECT_FALSE(read_stream_id(ring, mint_stream_id(ring.back(), a_stream()), now + 700));
}

TEST(WidgetCredentials, AStreamIdCarriesTheTenantsPlanForTheEdge) {
  const auto payload_of = [](const stream_claims& c) {
    const auto id = mint_stream_id(ring.back(), c);
    const auto first = id.find('.');
    return nlohmann::json::parse(
        *base::base64url_decode(id.substr(first + 1, id.rfind('.') - first - 1)));
  };
  EXPECT_FALSE(payload_of(a_stream()).contains("pln"));
  auto with_plan = a_stream();
  with_plan.plan.max_streams = 1;
  EXPECT_EQ(payload_of(with_plan).at("pln"), nlohmann::json({{"streams", 1}}));
  const auto read = read_stream_id(ring, mint_stream_id(ring.back(), with_plan), now + 1);
  ASSERT_TRUE(read);
  EXPECT_EQ(read->plan, with_plan.plan);
}

TEST(WidgetCredentials, AStreamIdWithAPlanTheEdgeRefusesIsRefusedHereToo) {
  const auto with_pln = [](nlohmann::json pln) {
    return sign_jws(ring.back(), {{"iss", "parley"},
                                  {"aud", stream_audience},
                                  {"tid", tenant},
                                  {"org", "https://shop.example"},
                                  {"iat", now},
                                  {"nbf", now},
                                  {"exp", now + 600},
                                  {"sid", "sess-1"},
                                  {"agt", "support"},
                                  {"sti", "k3y"},
                                  {"pln", std::move(pln)}});
  };
  const auto good = read_stream_id(ring, with_pln({{"rpm", 1}, {"burst", 0}}), now);
  ASSERT_TRUE(good);
  EXPECT_EQ(good->plan, (store::tenant_plan{1, 0, std::nullopt}));
  EXPECT_TRUE(read_stream_id(ring, with_pln({{"streams", plan_value_max}}), now));
  for (const auto& bad :
       {nlohmann::json(3), nlohmann::json(nullptr), nlohmann::json::array(),
        nlohmann::json({{"rpm", 0}}), nlohmann::json({{"burst", -1}}),
        nlohmann::json({{"streams", plan_value_max + 1}}), nlohmann::json({{"rpm", "3"}}),
        nlohmann::json({{"rpm", 3.5}}), nlohmann::json({{"rpm", 3}, {"tokens", 5}})}) {
    EXPECT_FALSE(read_stream_id(ring, with_pln(bad), now)) << bad.dump();
  }
  // as parsed from text, where 0 and 2^64 - 1 are unsigned numbers
  for (const auto* bad : {R"({"rpm":0})", R"({"streams":18446744073709551615})"}) {
    EXPECT_FALSE(read_stream_id(ring, with_pln(nlohmann::json::parse(bad)), now)) << bad;
  }
}

TEST(WidgetCredentials, NoKindIsTakenForAnother) {
  const auto stream = mint_stream_id(ring.back(), a_stream());
  const auto ticket =
      mint_ticket(ring.back(), {base_of(120), "0b6a3f1e-3a43-4b4e-9a2e-0d6f1f6a4e11", {}});
  const auto resume = mint_resume(ring.back(), {base_of(86400), "sess-1", "support"});
  const auto token = mint_token(
      ring.back(), {"parley", tenant, "sess-1", "support", "https://shop.example", now, 600, {}});
  EXPECT_TRUE(read_ticket(ring, ticket, now));
  EXPECT_TRUE(read_resume(ring, resume, now));
  for (const auto& other : {ticket, resume, token}) EXPECT_FALSE(read_stream_id(ring, other, now));
  for (const auto& other : {stream, resume, token}) EXPECT_FALSE(read_ticket(ring, other, now));
  for (const auto& other : {stream, ticket, token}) EXPECT_FALSE(read_resume(ring, other, now));
}

TEST(WidgetCredentials, ATicketLivesOnlyMinutes) {
  EXPECT_FALSE(read_ticket(
      ring, mint_ticket(ring.back(), {base_of(3600), "0b6a3f1e-3a43-4b4e-9a2e-0d6f1f6a4e11", {}}),
      now));
}

}  // namespace
}  // namespace parley::widget
