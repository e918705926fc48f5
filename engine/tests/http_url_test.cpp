// Percent-decoding and query strings.

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

}  // namespace
}  // namespace parley::http
