// The engine's widget signing key: the ring's last key, replaced by a new ring's.

#include <gtest/gtest.h>

#include <stdexcept>

#include "widget/signing_key.hpp"

namespace parley::widget {
namespace {

const std::string secret_a(32, 'a');
const std::string secret_b(40, 'b');

TEST(SigningKey, IsTheRingsLastKey) {
  const signing_key key({{"k1", secret_a}, {"k2", secret_b}});
  ASSERT_TRUE(key.current());
  EXPECT_EQ(key.current()->kid, "k2");
  EXPECT_EQ(key.current()->secret, secret_b);
}

TEST(SigningKey, AnEmptyRingSwitchesTheWidgetOff) {
  const signing_key key({});
  EXPECT_FALSE(key.current());
}

TEST(SigningKey, AReplacedRingSignsWithItsLastKey) {
  signing_key key({{"k1", secret_a}});
  const auto before = key.current();
  key.replace({{"k1", secret_a}, {"k2", secret_b}});
  EXPECT_EQ(key.current()->kid, "k2");
  EXPECT_EQ(before->kid, "k1");  // a request already holding the old key keeps it intact
}

TEST(SigningKey, AnEmptyRingReplacesNothing) {
  signing_key key({{"k1", secret_a}});
  EXPECT_THROW(key.replace({}), std::invalid_argument);
  EXPECT_EQ(key.current()->kid, "k1");
}

}  // namespace
}  // namespace parley::widget
