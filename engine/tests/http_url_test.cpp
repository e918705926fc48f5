// Percent-decoding, query strings and the canonical spelling of a path.

#include <gtest/gtest.h>

#include "http/api_error.hpp"
#include "http/url.hpp"

namespace parley::http {
namespace {

TEST(PercentDecode, DecodesEscapesAndPlusOnlyInQueries) {
  EXPECT_EQ(percent_decode("a%20b%2Fc%e2%82%ac", false), "a b/c\xe2\x82\xac");
  EXPECT_EQ(percent_decode("x+y", false), "x+y");
  EXPECT_EQ(percent_decode("x+y", true), "x y");
}

TEST(PercentDecode, RefusesBrokenEscapes) {
  for (const auto* in : {"%", "%2", "a%zz", "%g0"}) {
    try {
      percent_decode(in, false);
      ADD_FAILURE() << "accepted: " << in;
    } catch (const api_error& e) {
      EXPECT_EQ(e.status(), 400u);
      EXPECT_EQ(e.code(), "invalid_path");
    }
  }
}

TEST(ParseQuery, SplitsDecodesAndKeepsTheLastValue) {
  const auto q = parse_query("a=1&b=x+y&&flag&a=2&c=%26%3D");
  EXPECT_EQ(q.at("a"), "2");
  EXPECT_EQ(q.at("b"), "x y");
  EXPECT_EQ(q.at("flag"), "");
  EXPECT_EQ(q.at("c"), "&=");
  EXPECT_EQ(q.size(), 4u);
}

TEST(CanonicalSegments, SplitsACanonicalPath) {
  const auto s = canonical_segments("/v1/documents/a%20b");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(*s, (std::vector<std::string_view>{"v1", "documents", "a%20b"}));
  EXPECT_EQ(canonical_segments("/healthz")->size(), 1u);
  EXPECT_TRUE(canonical_segments("/v1/.well-known/x..y").has_value());
}

TEST(CanonicalSegments, RefusesEveryOtherSpelling) {
  for (const auto* path : {"", "/", "v1/models", "/v1/models/", "/v1//models", "//v1/models",
                           "/v1/./models", "/v1/../models", "/v1/models/.", "/v1/%2E/models",
                           "/v1/.%2e/models", "/v1/chat%2Fcompletions", "/v1/chat%2fcompletions"}) {
    EXPECT_FALSE(canonical_segments(path).has_value()) << path;
  }
}

}  // namespace
}  // namespace parley::http
