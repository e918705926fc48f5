#pragma once

// Okapi BM25 lexical ranking over the same chunks as the vector index. Rows are
// added as term lists (rag::terms), so lexical matching and the relevance gate
// share one notion of a term.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "rag/exact_index.hpp"

namespace parley::rag {

// k1: how fast repeats of a term stop adding to the score; b: how much a row
// longer than the average is penalised (0: not at all, 1: in full proportion).
struct bm25_params {
  double k1 = 1.2;
  double b = 0.75;
};

class bm25_index {
 public:
  std::size_t size() const noexcept { return lengths_.size(); }

  // About what the postings and lengths take on the heap.
  std::size_t memory_bytes() const noexcept;

  // Appends a row made of `row_terms`; its number is the previous size().
  void add(const std::vector<std::string>& row_terms);

  // Each row's score for `query_terms`, indexed by row: above 0 for an allowed row
  // sharing at least one of them, 0 for every other. Repeated query terms count once.
  // A plain vector rather than a map of the hits: a query whose terms are common
  // matches most rows.
  std::vector<double> scores(const std::vector<std::string>& query_terms,
                             std::span<const std::uint8_t> allowed,
                             const bm25_params& params = {}) const;

 private:
  struct posting {
    std::uint32_t row;
    std::uint32_t frequency;
  };

  std::unordered_map<std::string, std::vector<posting>> postings_;
  std::vector<std::uint32_t> lengths_;
  std::uint64_t total_length_ = 0;
  std::size_t term_bytes_ = 0;  // the terms and their map nodes
  std::size_t posting_count_ = 0;
};

// The rows scoring above 0, best first (equal scores keep row order), at most `limit`
// of them: only those are sorted.
std::vector<scored_row> ranked(std::span<const double> scores,
                               std::size_t limit = static_cast<std::size_t>(-1));

}  // namespace parley::rag
