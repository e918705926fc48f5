#include "rag/bm25_index.hpp"

#include <algorithm>
#include <cmath>
#include <set>
#include <stdexcept>

namespace parley::rag {

namespace {

// A hash map node's pointers and cached hash, beyond the pair it holds.
constexpr std::size_t map_node_overhead = 2 * sizeof(void*);

}  // namespace

void bm25_index::add(const std::vector<std::string>& row_terms) {
  const auto row = static_cast<std::uint32_t>(lengths_.size());
  std::unordered_map<std::string_view, std::uint32_t> counts;
  for (const auto& term : row_terms) ++counts[term];
  for (const auto& [term, count] : counts) {
    auto [it, added] = postings_.try_emplace(std::string(term));
    if (added) term_bytes_ += term.size() + sizeof(*it) + map_node_overhead;
    it->second.push_back({row, count});
  }
  posting_count_ += counts.size();
  lengths_.push_back(static_cast<std::uint32_t>(row_terms.size()));
  total_length_ += row_terms.size();
}

std::size_t bm25_index::memory_bytes() const noexcept {
  return term_bytes_ + posting_count_ * sizeof(posting) +
         lengths_.capacity() * sizeof(std::uint32_t);
}

std::vector<double> bm25_index::scores(const std::vector<std::string>& query_terms,
                                       std::span<const std::uint8_t> allowed,
                                       const bm25_params& params) const {
  if (allowed.size() != lengths_.size()) {
    throw std::invalid_argument("allowed mask has the wrong size");
  }
  std::vector<double> out(lengths_.size(), 0.0);
  if (lengths_.empty()) return out;
  const double n = static_cast<double>(lengths_.size());
  const double average_length = std::max(1.0, static_cast<double>(total_length_) / n);
  const double k1 = params.k1;
  const double b = params.b;
  const std::set<std::string_view> unique_terms(query_terms.begin(), query_terms.end());
  for (const auto term : unique_terms) {
    const auto it = postings_.find(std::string(term));
    if (it == postings_.end()) continue;
    const double df = static_cast<double>(it->second.size());
    // Lucene's IDF: never negative, so a very common term still counts a little.
    const double idf = std::log(1.0 + (n - df + 0.5) / (df + 0.5));
    for (const auto& p : it->second) {
      if (allowed[p.row] == 0) continue;
      const double tf = p.frequency;
      const double norm = k1 * (1.0 - b + b * lengths_[p.row] / average_length);
      out[p.row] += idf * tf * (k1 + 1.0) / (tf + norm);
    }
  }
  return out;
}

std::vector<scored_row> ranked(std::span<const double> scores, std::size_t limit) {
  std::vector<scored_row> out;
  for (std::uint32_t row = 0; row < scores.size(); ++row) {
    if (scores[row] > 0) out.push_back({row, static_cast<float>(scores[row])});
  }
  const auto better = [](const scored_row& x, const scored_row& y) {
    return x.score > y.score || (x.score == y.score && x.row < y.row);
  };
  if (limit < out.size()) {
    std::partial_sort(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(limit), out.end(),
                      better);
    out.resize(limit);
  } else {
    std::sort(out.begin(), out.end(), better);
  }
  return out;
}

}  // namespace parley::rag
