// Bootstrap tickets against every shared test vector (shared/test-vectors/
// widget_ticket.json): the engine reads the valid ones back, mints them byte for
// byte, and refuses the invalid ones for their reason.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "widget/credentials.hpp"
#include "widget/jws.hpp"

#include "shared_vectors.hpp"

namespace parley::widget {
namespace {

using json = nlohmann::json;

const json& vectors() {
  static const json v = test::read_shared_vectors("widget_ticket.json");
  return v;
}

std::vector<config::ring_key> ring() { return test::ring_of(vectors()); }

TEST(WidgetTicketVectors, ValidOnesReadBackAndMintByteForByte) {
  const auto keys = ring();
  for (const auto& v : vectors().at("valid")) {
    SCOPED_TRACE(v.at("name").get<std::string>());
    const auto& c = v.at("claims");
    const auto read = read_ticket(keys, v.at("token").get<std::string>(), v.at("now"));
    ASSERT_TRUE(read);
    EXPECT_EQ(read->base.tenant_id, c.at("tid"));
    EXPECT_EQ(read->base.origin, c.at("org"));
    EXPECT_EQ(read->key_id, c.at("key"));
    EXPECT_EQ(read->agent.value_or(""), c.value("agt", ""));
    const auto key =
        std::ranges::find(keys, v.at("kid").get<std::string>(), &config::ring_key::kid);
    ASSERT_NE(key, keys.end());
    EXPECT_EQ(mint_ticket(*key, *read), v.at("token"));
  }
}

TEST(WidgetTicketVectors, InvalidOnesAreRefusedForTheirReason) {
  for (const auto& v : vectors().at("invalid")) {
    SCOPED_TRACE(v.at("name").get<std::string>());
    const auto token = v.at("token").get<std::string>();
    const std::int64_t now = v.at("now");
    EXPECT_FALSE(read_ticket(ring(), token, now));
    const auto verified =
        verify_jws(ring(), token, {ticket_audience, now, vectors().at("skew"), ticket_ttl_s});
    // claims the generic check does not know (key, org, agt) are read_ticket's
    EXPECT_EQ(verified.claims ? "claims" : to_string(verified.error), v.at("reason"));
  }
}

}  // namespace
}  // namespace parley::widget
