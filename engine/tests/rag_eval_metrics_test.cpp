// BEIR's metrics (rag/eval_metrics.hpp) against judgements computed by hand.

#include <gtest/gtest.h>

#include <cmath>

#include "rag/eval_metrics.hpp"

namespace parley::rag {
namespace {

const std::vector<std::string> ranking{"a", "b", "c", "d"};

TEST(EvalMetrics, NdcgDiscountsRelevantDocumentsByTheirRank) {
  // relevant b (grade 1) at rank 2, d (grade 2) at rank 4; ideal: d then b
  const judgements judged{{"b", 1}, {"d", 2}, {"x", 0}};
  const double dcg = 1 / std::log2(3.0) + 2 / std::log2(5.0);
  const double ideal = 2 / std::log2(2.0) + 1 / std::log2(3.0);
  EXPECT_NEAR(ndcg_at(ranking, judged, 10), dcg / ideal, 1e-12);
  EXPECT_NEAR(ndcg_at(ranking, judged, 2), (1 / std::log2(3.0)) / ideal, 1e-12);
  EXPECT_DOUBLE_EQ(ndcg_at({"d", "b"}, judged, 10), 1.0);
  EXPECT_DOUBLE_EQ(ndcg_at(ranking, {{"x", 0}}, 10), 0.0);
}

TEST(EvalMetrics, RecallCountsTheRelevantFoundInTheFirstK) {
  const judgements judged{{"b", 1}, {"d", 1}, {"z", 1}};
  EXPECT_DOUBLE_EQ(recall_at(ranking, judged, 100), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(recall_at(ranking, judged, 3), 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(recall_at(ranking, judged, 1), 0.0);
}

TEST(EvalMetrics, ReciprocalRankIsOfTheFirstRelevantWithinK) {
  const judgements judged{{"c", 1}, {"d", 1}};
  EXPECT_DOUBLE_EQ(reciprocal_rank_at(ranking, judged, 10), 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(reciprocal_rank_at(ranking, judged, 2), 0.0);
}

}  // namespace
}  // namespace parley::rag
