// Widget stream ids against every shared test vector (shared/test-vectors/
// widget_stream.json), the same vectors the module checks through nginx: the engine
// reads back the valid ones' claims, mints them byte for byte, and refuses the
// invalid ones for the same reason as the edge.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "widget/credentials.hpp"
#include "widget/jws.hpp"
#include "widget/token.hpp"

#include "shared_vectors.hpp"

namespace parley::widget {
namespace {

using json = nlohmann::json;

const json& vectors() {
  static const json v = test::read_shared_vectors("widget_stream.json");
  return v;
}

std::vector<config::ring_key> ring() { return test::ring_of(vectors()); }

TEST(WidgetStreamVectors, ValidOnesReadBackAndMintByteForByte) {
  ASSERT_FALSE(vectors().at("valid").empty());
  for (const auto& v : vectors().at("valid")) {
    SCOPED_TRACE(v.at("name").get<std::string>());
    const auto& c = v.at("claims");
    const auto read = read_stream_id(ring(), v.at("token").get<std::string>(), v.at("now"));
    ASSERT_TRUE(read);
    EXPECT_EQ(read->base.tenant_id, c.at("tid"));
    EXPECT_EQ(read->base.origin, c.at("org"));
    EXPECT_EQ(read->session_id, c.at("sid"));
    EXPECT_EQ(read->agent, c.at("agt"));
    EXPECT_EQ(read->stream_key, c.at("sti"));
    if (c.at("nbf") != c.at("iat") || c.size() != 10) continue;  // not a claim set we mint
    const auto& kid = v.at("kid").get<std::string>();
    const auto keys = ring();
    const auto key = std::ranges::find(keys, kid, &config::ring_key::kid);
    ASSERT_NE(key, keys.end());
    EXPECT_EQ(mint_stream_id(*key, *read), v.at("token"));
  }
}

TEST(WidgetStreamVectors, InvalidOnesAreRefusedForTheEdgesReason) {
  for (const auto& v : vectors().at("invalid")) {
    const auto name = v.at("name").get<std::string>();
    SCOPED_TRACE(name);
    const auto token = v.at("token").get<std::string>();
    const std::int64_t now = v.at("now");
    EXPECT_FALSE(read_stream_id(ring(), token, now));
    const auto verified =
        verify_jws(ring(), token, {stream_audience, now, vectors().at("skew"), token_ttl_max_s});
    // claims the generic check does not know (sti, sid) are read_stream_id's
    if (verified.claims) {
      EXPECT_EQ(v.at("reason"), "claims");
    } else {
      EXPECT_EQ(to_string(verified.error), v.at("reason"));
    }
  }
}

}  // namespace
}  // namespace parley::widget
