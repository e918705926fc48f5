#include "rag/bm25_index.hpp"

#include <gtest/gtest.h>

#include "rag/text.hpp"

namespace parley::rag {
namespace {

// What knowledge_index reads: the scores, and the rows ranked by them.
std::vector<scored_row> search(const bm25_index& index, const std::vector<std::string>& query,
                               std::span<const std::uint8_t> allowed) {
  return ranked(index.scores(query, allowed));
}

bm25_index build(std::initializer_list<const char*> rows) {
  bm25_index index;
  for (const char* r : rows) index.add(terms(r));
  return index;
}

TEST(RagBm25Index, ScoresMatchTheFormula) {
  const auto index = build({"refund policy refund", "policy for vacation", "bakery bread"});
  const auto hits = search(index, terms("refund policy"), std::vector<std::uint8_t>(3, 1));
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
      search(index, terms("refund for my launch reservation"), std::vector<std::uint8_t>(4, 1));
  ASSERT_EQ(hits.size(), 3U);  // the bakery shares no term
  EXPECT_EQ(hits[0].row, 1U);  // all three terms: "refundable" stems to "refund"
  EXPECT_EQ(hits[1].row, 3U);  // "refund" + "reservation": the rarer terms
  EXPECT_EQ(hits[2].row, 2U);  // "launch" only
}

TEST(RagBm25Index, RepeatedQueryTermsCountOnce) {
  const auto index = build({"alpha beta", "beta gamma"});
  const std::vector<std::uint8_t> all(2, 1);
  const auto once = search(index, {"alpha"}, all);
  const auto twice = search(index, {"alpha", "alpha"}, all);
  ASSERT_EQ(once.size(), 1U);
  ASSERT_EQ(twice.size(), 1U);
  EXPECT_FLOAT_EQ(once[0].score, twice[0].score);
}

TEST(RagBm25Index, RespectsTheAllowedMask) {
  const auto index = build({"refund policy", "refund form"});
  const auto hits = search(index, {"refund"}, std::vector<std::uint8_t>{0, 1});
  ASSERT_EQ(hits.size(), 1U);
  EXPECT_EQ(hits[0].row, 1U);
}

TEST(RagBm25Index, EmptyIndexAndUnknownTerms) {
  bm25_index empty;
  EXPECT_TRUE(search(empty, {"x"}, {}).empty());
  const auto index = build({"alpha"});
  EXPECT_TRUE(search(index, {"omega"}, std::vector<std::uint8_t>{1}).empty());
}

TEST(RagBm25Index, InflectedQueriesMatchStemmedRows) {
  const auto index = build({"Refunds are processed weekly.", "The bakery bakes bread."});
  const auto hits = search(index, terms("refund processing"), std::vector<std::uint8_t>(2, 1));
  ASSERT_EQ(hits.size(), 1U);
  EXPECT_EQ(hits[0].row, 0U);
}

TEST(RagBm25Index, BControlsTheLengthPenalty) {
  // The same single match in a short and in a long row.
  const auto index = build({"refund", "refund alpha beta gamma delta epsilon"});
  const std::vector<std::uint8_t> all(2, 1);
  const auto normalised = index.scores({"refund"}, all, {.k1 = 1.2, .b = 0.75});
  EXPECT_GT(normalised[0], normalised[1]);
  const auto flat = index.scores({"refund"}, all, {.k1 = 1.2, .b = 0.0});
  EXPECT_DOUBLE_EQ(flat[0], flat[1]);
}

TEST(RagBm25Index, K1ControlsHowMuchRepeatsCount) {
  const auto index = build({"refund refund refund policy", "refund policy bakery bread"});
  const std::vector<std::uint8_t> all(2, 1);
  const auto saturating = index.scores({"refund"}, all, {.k1 = 1.2, .b = 0.0});
  EXPECT_GT(saturating[0], saturating[1]);
  const auto binary = index.scores({"refund"}, all, {.k1 = 0.0, .b = 0.0});
  EXPECT_DOUBLE_EQ(binary[0], binary[1]);
}

TEST(RagBm25Index, RankedKeepsTheBestRowsUpToTheLimitInOrder) {
  const std::vector<double> scores{0.5, 0.0, 2.0, 0.5, 1.0};
  const auto all = ranked(scores);
  ASSERT_EQ(all.size(), 4u);  // the row scoring 0 is no hit
  EXPECT_EQ(all[0].row, 2u);
  EXPECT_EQ(all[1].row, 4u);
  EXPECT_EQ(all[2].row, 0u);  // equal scores keep row order
  EXPECT_EQ(all[3].row, 3u);
  const auto best_two = ranked(scores, 2);
  ASSERT_EQ(best_two.size(), 2u);
  EXPECT_EQ(best_two[0].row, 2u);
  EXPECT_EQ(best_two[1].row, 4u);
  EXPECT_TRUE(ranked(scores, 0).empty());
}

}  // namespace
}  // namespace parley::rag
