#include "rag/fusion.hpp"

#include <gtest/gtest.h>

#include <array>
#include <stdexcept>

namespace parley::rag {
namespace {

TEST(RagFusion, SumsReciprocalRanks) {
  const std::array<std::vector<std::uint32_t>, 2> rankings{{{10, 20, 30}, {30, 10}}};
  const auto fused = reciprocal_rank_fusion(rankings);
  ASSERT_EQ(fused.size(), 3U);
  EXPECT_EQ(fused[0].row, 10U);  // 1/61 + 1/62
  EXPECT_NEAR(fused[0].score, 1.0 / 61 + 1.0 / 62, 1e-12);
  EXPECT_EQ(fused[1].row, 30U);  // 1/63 + 1/61
  EXPECT_NEAR(fused[1].score, 1.0 / 63 + 1.0 / 61, 1e-12);
  EXPECT_EQ(fused[2].row, 20U);  // 1/62
  EXPECT_NEAR(fused[2].score, 1.0 / 62, 1e-12);
}

TEST(RagFusion, AgreementBeatsOneFirstPlace) {
  // Second in both lists beats first in one list only.
  const std::array<std::vector<std::uint32_t>, 2> rankings{{{1, 2}, {3, 2}}};
  const auto fused = reciprocal_rank_fusion(rankings);
  ASSERT_EQ(fused.size(), 3U);
  EXPECT_EQ(fused[0].row, 2U);
}

TEST(RagFusion, TiesKeepFirstAppearance) {
  const std::array<std::vector<std::uint32_t>, 2> rankings{{{5}, {7}}};
  const auto fused = reciprocal_rank_fusion(rankings);
  ASSERT_EQ(fused.size(), 2U);
  EXPECT_EQ(fused[0].row, 5U);
  EXPECT_EQ(fused[1].row, 7U);
}

TEST(RagFusion, KChangesTheWeightOfTopRanks) {
  const std::array<std::vector<std::uint32_t>, 1> rankings{{{1, 2}}};
  const auto fused = reciprocal_rank_fusion(rankings, 0.0);
  EXPECT_NEAR(fused[0].score, 1.0, 1e-12);
  EXPECT_NEAR(fused[1].score, 0.5, 1e-12);
}

TEST(RagFusion, WeightsDecideBetweenDisagreeingRankings) {
  const std::array<std::vector<std::uint32_t>, 2> rankings{{{1, 2}, {2, 1}}};
  const std::array<double, 2> trust_first{1.0, 0.5};
  const std::array<double, 2> trust_second{0.5, 1.0};
  EXPECT_EQ(reciprocal_rank_fusion(rankings, rrf_k, trust_first)[0].row, 1U);
  EXPECT_EQ(reciprocal_rank_fusion(rankings, rrf_k, trust_second)[0].row, 2U);
}

TEST(RagFusion, AZeroWeightRankingOnlyAppendsItsOtherRows) {
  const std::array<std::vector<std::uint32_t>, 2> rankings{{{7, 8}, {9, 8, 7}}};
  const std::array<double, 2> weights{1.0, 0.0};
  const auto fused = reciprocal_rank_fusion(rankings, rrf_k, weights);
  ASSERT_EQ(fused.size(), 3U);
  EXPECT_EQ(fused[0].row, 7U);  // the first ranking's order, untouched by the second
  EXPECT_EQ(fused[1].row, 8U);
  EXPECT_EQ(fused[2].row, 9U);
  EXPECT_EQ(fused[2].score, 0.0);
}

TEST(RagFusion, OneWeightPerRanking) {
  const std::array<std::vector<std::uint32_t>, 2> rankings{{{1}, {2}}};
  const std::array<double, 1> weights{1.0};
  EXPECT_THROW(reciprocal_rank_fusion(rankings, rrf_k, weights), std::invalid_argument);
}

TEST(RagFusion, NoRankingsNoRows) { EXPECT_TRUE(reciprocal_rank_fusion({}).empty()); }

}  // namespace
}  // namespace parley::rag
