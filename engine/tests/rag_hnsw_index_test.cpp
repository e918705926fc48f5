#include "rag/hnsw_index.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <set>
#include <stdexcept>
#include <string>

#include "rag/exact_index.hpp"
#include "rag/hashing_embedder.hpp"

namespace parley::rag {
namespace {

// Sentences of made-up words drawn with a skewed frequency, as words are in text,
// embedded by the hashing embedder: vectors shaped like the engine's.
class RagHnswIndex : public ::testing::Test {
 protected:
  static constexpr std::size_t dims = 384;
  hashing_embedder embedder_{dims};
  std::mt19937 rng_{42};
  std::vector<std::string> words_;

  void SetUp() override {
    std::uniform_int_distribution<int> letter('a', 'z');
    std::uniform_int_distribution<int> length(3, 9);
    for (int i = 0; i < 2000; ++i) {
      std::string w(static_cast<std::size_t>(length(rng_)), 'a');
      for (auto& ch : w) ch = static_cast<char>(letter(rng_));
      words_.push_back(w);
    }
  }

  std::string words(int min_words, int max_words) {
    std::uniform_int_distribution<int> count(min_words, max_words);
    // A word's rank follows a power law: a few are common, most are rare.
    std::uniform_real_distribution<double> u(0, 1);
    std::string text;
    for (int i = count(rng_); i > 0; --i) {
      const auto rank = static_cast<std::size_t>(std::pow(u(rng_), 2.5) * words_.size());
      text += words_[std::min(rank, words_.size() - 1)] + " ";
    }
    return text;
  }

  void fill(std::size_t rows, exact_index& exact, hnsw_index& hnsw) {
    for (std::size_t i = 0; i < rows; ++i) {
      texts_.push_back(words(6, 20));
      const auto v = embedder_.embed(texts_.back());
      exact.add(v);
      hnsw.add(v);
    }
  }

  // As a question is: a few words of one stored text, and one of its own.
  std::vector<float> query() {
    std::uniform_int_distribution<std::size_t> pick(0, texts_.size() - 1);
    const auto& text = texts_[pick(rng_)];
    std::string q = words(1, 1);
    std::size_t start = 0;
    for (std::size_t end; (end = text.find(' ', start)) != std::string::npos; start = end + 1) {
      if (rng_() % 3 == 0) q += " " + text.substr(start, end - start);
    }
    return embedder_.embed(q);
  }

  std::vector<std::string> texts_;
};

double recall(const std::vector<scored_row>& truth, const std::vector<scored_row>& found) {
  std::set<std::uint32_t> rows;
  for (const auto& h : truth) rows.insert(h.row);
  std::size_t hit = 0;
  for (const auto& h : found) hit += rows.count(h.row);
  return truth.empty() ? 1.0 : static_cast<double>(hit) / static_cast<double>(truth.size());
}

TEST_F(RagHnswIndex, RecallAgainstExactSearch) {
  constexpr std::size_t rows = 4000;
  exact_index exact(dims);
  hnsw_index hnsw(dims, rows);
  fill(rows, exact, hnsw);
  EXPECT_EQ(hnsw.size(), rows);
  const std::vector<std::uint8_t> all(rows, 1);
  double total = 0;
  constexpr int queries = 200;
  for (int n = 0; n < queries; ++n) {
    const auto q = query();
    const auto truth = exact.search(q, 10, all);
    const auto found = hnsw.search(q, 10, all);
    ASSERT_EQ(found.size(), 10U);
    for (std::size_t i = 1; i < found.size(); ++i) EXPECT_GE(found[i - 1].score, found[i].score);
    total += recall(truth, found);
  }
  EXPECT_GE(total / queries, 0.95);
}

TEST_F(RagHnswIndex, TheFilterIsRespectedAndStillFillsK) {
  constexpr std::size_t rows = 5000;
  exact_index exact(dims);
  hnsw_index hnsw(dims, rows, {.m = 16, .ef_construction = 200, .ef_search = 128});
  fill(rows, exact, hnsw);
  // From most to least of the rows allowed: the beam-widened graph walk first,
  // then the exact scoring of a small allowed set.
  for (const std::size_t every : {1U, 2U, 3U, 5U, 50U, 1000U}) {
    std::vector<std::uint8_t> allowed(rows, 0);
    for (std::size_t i = 0; i < rows; i += every) allowed[i] = 1;
    double total = 0;
    constexpr int queries = 50;
    for (int n = 0; n < queries; ++n) {
      const auto q = query();
      const auto truth = exact.search(q, 10, allowed);
      const auto found = hnsw.search(q, 10, allowed);
      ASSERT_EQ(found.size(), truth.size()) << "every " << every;
      for (const auto& h : found) ASSERT_EQ(allowed[h.row], 1) << "row " << h.row;
      total += recall(truth, found);
    }
    EXPECT_GE(total / queries, 0.95) << "every " << every;
  }
  EXPECT_TRUE(hnsw.search(query(), 10, std::vector<std::uint8_t>(rows, 0)).empty());
}

TEST_F(RagHnswIndex, ScoresAreExactDotProductsInRowOrderOnTies) {
  hnsw_index hnsw(2, 8);
  for (int i = 0; i < 5; ++i) hnsw.add(std::vector<float>{1, 0});
  hnsw.add(std::vector<float>{0, 1});
  const std::vector<std::uint8_t> all(6, 1);
  const auto hits = hnsw.search(std::vector<float>{1, 0}, 3, all);
  ASSERT_EQ(hits.size(), 3U);
  EXPECT_EQ(hits[0].row, 0U);
  EXPECT_EQ(hits[1].row, 1U);
  EXPECT_EQ(hits[2].row, 2U);
  EXPECT_FLOAT_EQ(hits[0].score, 1.0F);
  EXPECT_FLOAT_EQ(hnsw.score(std::vector<float>{0.5F, 2}, 5), 2.0F);
}

TEST_F(RagHnswIndex, MemoryCountsTheVectorsAndTheGraph) {
  constexpr std::size_t rows = 1000;
  exact_index exact(dims);
  hnsw_index hnsw(dims, rows);
  fill(rows, exact, hnsw);
  // At least its copy of the vectors and M0 = 2M links per node.
  EXPECT_GE(hnsw.memory_bytes(), rows * (dims * sizeof(float) + 2 * 16 * sizeof(std::uint32_t)));
  EXPECT_LT(hnsw.memory_bytes(), rows * dims * sizeof(float) * 2 + (4U << 20));
}

TEST_F(RagHnswIndex, RejectsWrongLengthsAndOverfilling) {
  hnsw_index hnsw(3, 1);
  EXPECT_THROW(hnsw.add(std::vector<float>{1, 2}), std::invalid_argument);
  hnsw.add(std::vector<float>{1, 2, 3});
  EXPECT_THROW(hnsw.add(std::vector<float>{1, 2, 3}), std::length_error);
  EXPECT_THROW(hnsw.search(std::vector<float>{1}, 1, std::vector<std::uint8_t>{1}),
               std::invalid_argument);
  EXPECT_THROW(hnsw.search(std::vector<float>{1, 2, 3}, 1, std::vector<std::uint8_t>{}),
               std::invalid_argument);
  EXPECT_THROW(hnsw_index(0, 1), std::invalid_argument);
}

}  // namespace
}  // namespace parley::rag
