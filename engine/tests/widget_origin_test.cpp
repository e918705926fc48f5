// Allowed origins: exactly scheme://host[:port], lowercase, nothing more.

#include <gtest/gtest.h>

#include "widget/origin.hpp"

namespace parley::widget {
namespace {

TEST(Origin, AcceptsSchemeHostAndOptionalPort) {
  for (const char* o : {"https://shop.example.com", "http://localhost", "http://127.0.0.1:8080",
                        "https://a-b.example:443", "https://xn--bcher-kva.example"}) {
    EXPECT_TRUE(is_valid_origin(o)) << o;
  }
}

TEST(Origin, RefusesPathsQueriesAndTrailingSlashes) {
  for (const char* o : {"https://shop.example.com/", "https://shop.example.com/widget",
                        "https://shop.example.com?x=1", "https://shop.example.com#top"}) {
    EXPECT_FALSE(is_valid_origin(o)) << o;
  }
}

TEST(Origin, RefusesUppercaseOtherSchemesAndUserInfo) {
  for (const char* o : {"https://Shop.example.com", "HTTPS://shop.example.com",
                        "ftp://shop.example.com", "shop.example.com", "//shop.example.com",
                        "https://user@shop.example.com", "https://", "null", "*", ""}) {
    EXPECT_FALSE(is_valid_origin(o)) << o;
  }
}

TEST(Origin, RefusesBadPortsAndEmptyLabels) {
  for (const char* o :
       {"https://shop.example.com:", "https://shop.example.com:0", "https://shop.example.com:65536",
        "https://shop.example.com:08080", "https://shop.example.com:80a",
        "https://shop..example.com", "https://.example.com", "https://example.com."}) {
    EXPECT_FALSE(is_valid_origin(o)) << o;
  }
}

TEST(Origin, SaysWhatIsWrong) {
  EXPECT_EQ(origin_problem("https://Shop.example"), "must be lowercase");
  EXPECT_EQ(origin_problem("https://shop.example/"), "must not have a path (not even '/')");
  EXPECT_FALSE(origin_problem("https://shop.example").has_value());
  EXPECT_TRUE(origin_problem(std::string(300, 'a')).has_value());
}

}  // namespace
}  // namespace parley::widget
