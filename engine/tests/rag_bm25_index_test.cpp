#include "rag/bm25_index.hpp"

#include <gtest/gtest.h>

#include "rag/text.hpp"

namespace parley::rag {
namespace {

bm25_index build(std::initializer_list<const char*> rows) {
  bm25_index index;
  for (const char* r : rows) index.add(terms(r));
  return index;
}

TEST(RagBm25Index, ScoresMatchTheFormula) {
  const auto index = build({"refund policy refund", "policy for vacation", "bakery bread"});
  const auto hits = index.search(terms("refund policy"), std::vector<std::uint8_t>(3, 1));
  // Values computed independently: k1 = 1.2, b = 0.75, Lucene IDF, avgdl = 7/3.
  ASSERT_EQ(hits.size(), 2U);
  EXPECT_EQ(hits[0].row, 0U);
  EXPECT_NEAR(hits[0].score, 1.669145, 1e-4);
  EXPECT_EQ(hits[1].row, 1U);
  EXPECT_NEAR(hits[1].score, 0.499176, 1e-4);
}

TEST(RagBm25Index, KnownRanking) {
  const auto index = build({
      "The bakery opens at seven and sells sourdough bread.",
      "Rocket launch reservations are refundable up to 90 days before launch.",
      "Launch windows move; a launch can slip.",
      "Refund requests go to billing with the reservation number.",
  });
  const auto hits =
      index.search(terms("refund for my launch reservation"), std::vector<std::uint8_t>(4, 1));
  ASSERT_EQ(hits.size(), 3U);  // the bakery shares no term
  EXPECT_EQ(hits[0].row, 3U);  // "refund" + "reservation": the rarer terms
  EXPECT_EQ(hits[1].row, 2U);  // "launch" twice in a shorter row
  EXPECT_EQ(hits[2].row, 1U);
}

TEST(RagBm25Index, RepeatedQueryTermsCountOnce) {
  const auto index = build({"alpha beta", "beta gamma"});
  const std::vector<std::uint8_t> all(2, 1);
  const auto once = index.search({"alpha"}, all);
  const auto twice = index.search({"alpha", "alpha"}, all);
  ASSERT_EQ(once.size(), 1U);
  ASSERT_EQ(twice.size(), 1U);
  EXPECT_FLOAT_EQ(once[0].score, twice[0].score);
}

TEST(RagBm25Index, RespectsTheAllowedMask) {
  const auto index = build({"refund policy", "refund form"});
  const auto hits = index.search({"refund"}, std::vector<std::uint8_t>{0, 1});
  ASSERT_EQ(hits.size(), 1U);
  EXPECT_EQ(hits[0].row, 1U);
}

TEST(RagBm25Index, EmptyIndexAndUnknownTerms) {
  bm25_index empty;
  EXPECT_TRUE(empty.search({"x"}, {}).empty());
  const auto index = build({"alpha"});
  EXPECT_TRUE(index.search({"omega"}, std::vector<std::uint8_t>{1}).empty());
}

}  // namespace
}  // namespace parley::rag
