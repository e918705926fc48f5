// The widget key ring file: the same rules as the module's parser, every problem
// listed, the last key current.

#include <gtest/gtest.h>

#include <algorithm>

#include "config/key_ring.hpp"

namespace parley::config {
namespace {

const std::string secret_a(32, 'a');
const std::string secret_b = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

bool mentions(const std::vector<std::string>& problems, const std::string& text) {
  return std::ranges::any_of(problems,
                             [&](const auto& p) { return p.find(text) != std::string::npos; });
}

TEST(KeyRing, ReadsPairsInOrderAndSkipsCommentsAndBlankLines) {
  const auto ring = parse_key_ring("# widget keys\n\n  # indented comment\nk1 " + secret_a +
                                   "\n\tk-2_b\t " + secret_b + " \r\n");
  ASSERT_TRUE(ring.problems.empty()) << ring.problems.front();
  ASSERT_EQ(ring.keys.size(), 2u);
  EXPECT_EQ(ring.keys[0].kid, "k1");
  EXPECT_EQ(ring.keys[0].secret, secret_a);
  EXPECT_EQ(ring.keys.back().kid, "k-2_b");  // the current key is the last one
  EXPECT_EQ(ring.keys.back().secret, secret_b);
}

TEST(KeyRing, AFileWithoutATrailingNewlineIsRead) {
  const auto ring = parse_key_ring("only " + secret_a);
  ASSERT_TRUE(ring.problems.empty());
  EXPECT_EQ(ring.keys.at(0).kid, "only");
}

TEST(KeyRing, ShortSecretsAreRefusedWithoutQuotingThem) {
  const auto ring = parse_key_ring("k1 short-secret-31-bytes-long-xx\n");
  ASSERT_EQ(ring.problems.size(), 1u);
  EXPECT_TRUE(mentions(ring.problems, "line 1"));
  EXPECT_TRUE(mentions(ring.problems, "shorter than 32 bytes"));
  EXPECT_FALSE(mentions(ring.problems, "short-secret"));
  EXPECT_TRUE(ring.keys.empty());
}

TEST(KeyRing, DuplicateKeyIdsAreRefused) {
  const auto ring = parse_key_ring("k1 " + secret_a + "\nk1 " + secret_b + "\n");
  ASSERT_EQ(ring.problems.size(), 1u);
  EXPECT_TRUE(mentions(ring.problems, "line 2: duplicate key id 'k1'"));
}

TEST(KeyRing, EveryBadLineIsListed) {
  const auto ring =
      parse_key_ring("k.1 " + secret_a + "\n" +            // '.' not allowed in a kid
                     "lonely\n" +                          // no secret
                     "k2 " + secret_a + " # trailing\n" +  // a third field
                     std::string(65, 'k') + " " + secret_a + "\n" + "good " + secret_b + "\n");
  EXPECT_EQ(ring.problems.size(), 4u);
  EXPECT_TRUE(mentions(ring.problems, "line 1: a key id"));
  EXPECT_TRUE(mentions(ring.problems, "line 2: expected"));
  EXPECT_TRUE(mentions(ring.problems, "line 3: expected"));
  EXPECT_TRUE(mentions(ring.problems, "line 4: a key id"));
  ASSERT_EQ(ring.keys.size(), 1u);
  EXPECT_EQ(ring.keys[0].kid, "good");
}

TEST(KeyRing, AnEmptyRingIsAProblem) {
  EXPECT_TRUE(mentions(parse_key_ring("").problems, "no key"));
  EXPECT_TRUE(mentions(parse_key_ring("# nothing yet\n\n").problems, "no key"));
}

}  // namespace
}  // namespace parley::config
