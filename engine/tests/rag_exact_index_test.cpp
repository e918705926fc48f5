#include "rag/exact_index.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>

namespace parley::rag {
namespace {

TEST(RagExactIndex, MatchesBruteForce) {
  constexpr std::size_t dims = 37;  // not a multiple of the unrolled width
  constexpr std::size_t rows = 500;
  std::mt19937 rng(7);
  std::normal_distribution<float> dist;
  exact_index index(dims);
  std::vector<std::vector<float>> data(rows, std::vector<float>(dims));
  for (auto& row : data) {
    for (auto& x : row) x = dist(rng);
    index.add(row);
  }
  std::vector<float> q(dims);
  for (auto& x : q) x = dist(rng);
  std::vector<std::uint8_t> allowed(rows);
  for (std::size_t i = 0; i < rows; ++i) allowed[i] = (i % 3) != 0;

  std::vector<scored_row> expected;
  for (std::uint32_t r = 0; r < rows; ++r) {
    if (!allowed[r]) continue;
    double s = 0;
    for (std::size_t i = 0; i < dims; ++i) s += static_cast<double>(data[r][i]) * q[i];
    expected.push_back({r, static_cast<float>(s)});
  }
  std::sort(expected.begin(), expected.end(),
            [](const scored_row& a, const scored_row& b) { return a.score > b.score; });

  const auto hits = index.search(q, 10, allowed);
  ASSERT_EQ(hits.size(), 10U);
  for (std::size_t i = 0; i < hits.size(); ++i) {
    EXPECT_EQ(hits[i].row, expected[i].row) << "rank " << i;
    EXPECT_NEAR(hits[i].score, expected[i].score, 1e-4F);
    EXPECT_NE(hits[i].row % 3, 0U);
  }
}

TEST(RagExactIndex, FewerAllowedRowsThanK) {
  exact_index index(2);
  index.add(std::vector<float>{1, 0});
  index.add(std::vector<float>{0, 1});
  index.add(std::vector<float>{0.6F, 0.8F});
  const std::vector<std::uint8_t> allowed{1, 0, 1};
  const auto hits = index.search(std::vector<float>{0, 1}, 5, allowed);
  ASSERT_EQ(hits.size(), 2U);
  EXPECT_EQ(hits[0].row, 2U);
  EXPECT_EQ(hits[1].row, 0U);
}

TEST(RagExactIndex, TiesKeepRowOrder) {
  exact_index index(1);
  for (int i = 0; i < 5; ++i) index.add(std::vector<float>{1});
  const auto hits = index.search(std::vector<float>{1}, 3, std::vector<std::uint8_t>(5, 1));
  ASSERT_EQ(hits.size(), 3U);
  EXPECT_EQ(hits[0].row, 0U);
  EXPECT_EQ(hits[1].row, 1U);
  EXPECT_EQ(hits[2].row, 2U);
}

TEST(RagExactIndex, VectorisedDotEqualsPortable) {
  std::mt19937 rng(11);
  std::normal_distribution<float> dist;
  // Lengths around the kernels' unrolled widths (4, 8 and 32 floats) and 384.
  for (const std::size_t n : {1U, 3U, 7U, 8U, 31U, 32U, 33U, 100U, 384U, 1000U}) {
    std::vector<float> a(n), b(n);
    for (auto& x : a) x = dist(rng);
    for (auto& x : b) x = dist(rng);
    double exact = 0, magnitude = 0;
    for (std::size_t i = 0; i < n; ++i) {
      exact += static_cast<double>(a[i]) * b[i];
      magnitude += std::abs(static_cast<double>(a[i]) * b[i]);
    }
    const float tolerance = static_cast<float>(1e-6 * magnitude) + 1e-6F;
    EXPECT_NEAR(dot(a.data(), b.data(), n), dot_portable(a.data(), b.data(), n), tolerance)
        << "n=" << n;
    EXPECT_NEAR(dot(a.data(), b.data(), n), static_cast<float>(exact), tolerance) << "n=" << n;
  }
  if (!dot_is_vectorised()) GTEST_SKIP() << "no AVX2+FMA here: dot is the portable kernel";
}

TEST(RagExactIndex, SearchScoresAreThePortableDotProducts) {
  constexpr std::size_t dims = 384;
  std::mt19937 rng(5);
  std::normal_distribution<float> dist;
  exact_index index(dims);
  std::vector<std::vector<float>> data(300, std::vector<float>(dims));
  for (auto& row : data) {
    for (auto& x : row) x = dist(rng);
    index.add(row);
  }
  std::vector<float> q(dims);
  for (auto& x : q) x = dist(rng);
  const auto hits = index.search(q, 300, std::vector<std::uint8_t>(300, 1));
  ASSERT_EQ(hits.size(), 300U);
  for (std::size_t i = 0; i < hits.size(); ++i) {
    EXPECT_NEAR(hits[i].score, dot_portable(q.data(), data[hits[i].row].data(), dims), 1e-3F);
    if (i > 0) {
      EXPECT_GE(hits[i - 1].score, hits[i].score);
    }
  }
}

TEST(RagExactIndex, RejectsWrongLengths) {
  exact_index index(3);
  EXPECT_THROW(index.add(std::vector<float>{1, 2}), std::invalid_argument);
  index.add(std::vector<float>{1, 2, 3});
  EXPECT_THROW(index.search(std::vector<float>{1}, 1, std::vector<std::uint8_t>{1}),
               std::invalid_argument);
  EXPECT_THROW(index.search(std::vector<float>{1, 2, 3}, 1, std::vector<std::uint8_t>{}),
               std::invalid_argument);
}

}  // namespace
}  // namespace parley::rag
