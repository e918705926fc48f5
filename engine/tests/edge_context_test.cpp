// X-Parley-Context against every shared test vector (shared/test-vectors/context.json),
// the same vectors the module's tests check through nginx.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>

#include "edge/context.hpp"

namespace parley::edge {
namespace {

const nlohmann::json& vectors() {
  static const nlohmann::json v = [] {
    std::ifstream in(std::string(PARLEY_SOURCE_DIR) + "/shared/test-vectors/context.json");
    return nlohmann::json::parse(in);
  }();
  return v;
}

std::string secret() { return vectors().at("secret").get<std::string>(); }

context_verifier verifier() { return context_verifier(secret(), {}); }

identity identity_of(const nlohmann::json& v) {
  identity id;
  id.tenant_id = v.at("tenant");
  id.kind = *parse_principal_kind(v.at("kind").get<std::string>());
  id.principal_id = v.at("principal");
  if (v.at("session") != "-") id.session_id = v.at("session").get<std::string>();
  id.request_id = v.at("request");
  id.signed_at_ms = v.at("unix_ms");
  return id;
}

TEST(Context, VectorsArePresent) {
  EXPECT_GE(vectors().at("valid").size(), 4u);
  EXPECT_GE(vectors().at("valid_at_boundary").size(), 2u);
  EXPECT_GE(vectors().at("invalid").size(), 9u);
}

TEST(Context, SignReproducesEveryValidHeader) {
  for (const auto& v : vectors().at("valid")) {
    EXPECT_EQ(sign_context(secret(), identity_of(v)), v.at("header").get<std::string>());
  }
}

TEST(Context, VerifyAcceptsEveryValidHeaderWithItsFields) {
  for (const auto& v : vectors().at("valid")) {
    const auto result = verifier().verify(v.at("header").get<std::string>(), v.at("unix_ms"));
    ASSERT_TRUE(result.identity.has_value()) << v.at("header") << ": " << to_string(result.error);
    const auto expected = identity_of(v);
    EXPECT_EQ(result.identity->tenant_id, expected.tenant_id);
    EXPECT_EQ(result.identity->kind, expected.kind);
    EXPECT_EQ(result.identity->principal_id, expected.principal_id);
    EXPECT_EQ(result.identity->session_id, expected.session_id);
    EXPECT_EQ(result.identity->request_id, expected.request_id);
    EXPECT_EQ(result.identity->signed_at_ms, expected.signed_at_ms);
  }
}

TEST(Context, VerifyAcceptsBoundaryTimes) {
  for (const auto& v : vectors().at("valid_at_boundary")) {
    const auto result = verifier().verify(v.at("header").get<std::string>(), v.at("now_ms"));
    EXPECT_TRUE(result.identity.has_value()) << v.at("now_ms") << ": " << to_string(result.error);
  }
}

TEST(Context, VerifyRefusesEveryInvalidHeaderForItsReason) {
  for (const auto& v : vectors().at("invalid")) {
    const auto result = verifier().verify(v.at("header").get<std::string>(), v.at("now_ms"));
    EXPECT_FALSE(result.identity.has_value()) << v.at("header");
    EXPECT_EQ(to_string(result.error), v.at("reason").get<std::string>()) << v.at("header");
  }
}

TEST(Context, AnotherSecretFailsTheSignature) {
  const auto& v = vectors().at("valid").at(0);
  context_verifier other(secret() + "x", {});
  EXPECT_EQ(other.verify(v.at("header").get<std::string>(), v.at("unix_ms")).error,
            context_error::signature);
}

TEST(Context, ConfiguredMaxAgeIsHonoured) {
  const auto& v = vectors().at("valid").at(0);
  context_verifier strict(secret(), {.max_age_ms = 1000, .max_skew_ms = 0});
  const std::int64_t t = v.at("unix_ms");
  const std::string header = v.at("header");
  EXPECT_TRUE(strict.verify(header, t + 1000).identity.has_value());
  EXPECT_EQ(strict.verify(header, t + 1001).error, context_error::expired);
  EXPECT_EQ(strict.verify(header, t - 1).error, context_error::future);
}

TEST(Context, ShapeViolationsAreMalformed) {
  identity id;
  id.tenant_id = "3f1c2a9e-8b7d-4e21-9c3a-5d6e7f809a1b";
  id.principal_id = "p";
  id.request_id = "r";
  id.signed_at_ms = 1795305600000;
  const auto good = sign_context(secret(), id);
  ASSERT_TRUE(verifier().verify(good, id.signed_at_ms).identity);

  auto resigned = [&](identity changed) { return sign_context(secret(), changed); };
  identity upper = id;
  upper.tenant_id = "3F1C2A9E-8B7D-4E21-9C3A-5D6E7F809A1B";
  identity long_principal = id;
  long_principal.principal_id = std::string(65, 'a');
  identity bad_char = id;
  bad_char.request_id = "a/b";
  identity nil_key = id;
  nil_key.tenant_id = "00000000-0000-0000-0000-000000000000";
  for (const auto& header :
       {resigned(upper), resigned(long_principal), resigned(bad_char), resigned(nil_key),
        good + "A", good.substr(1), std::string(400, 'a'), good + ".x"}) {
    EXPECT_EQ(verifier().verify(header, id.signed_at_ms).error, context_error::malformed) << header;
  }
}

}  // namespace
}  // namespace parley::edge
