#include "rag/fusion.hpp"

#include <gtest/gtest.h>

#include <array>

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

TEST(RagFusion, NoRankingsNoRows) { EXPECT_TRUE(reciprocal_rank_fusion({}).empty()); }

}  // namespace
}  // namespace parley::rag
