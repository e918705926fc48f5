#include "rag/exact_index.hpp"

#include <algorithm>
#include <stdexcept>

namespace parley::rag {

namespace {

float dot(const float* a, const float* b, std::size_t n) noexcept {
  // Four accumulators let the compiler vectorise without -ffast-math reassociation.
  float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += a[i] * b[i];
    s1 += a[i + 1] * b[i + 1];
    s2 += a[i + 2] * b[i + 2];
    s3 += a[i + 3] * b[i + 3];
  }
  for (; i < n; ++i) s0 += a[i] * b[i];
  return (s0 + s1) + (s2 + s3);
}

// Heap order: the worst kept hit on top; a lower row wins a tie.
bool better(const scored_row& a, const scored_row& b) noexcept {
  return a.score > b.score || (a.score == b.score && a.row < b.row);
}

}  // namespace

exact_index::exact_index(std::size_t dimensions) : dimensions_(dimensions) {
  if (dimensions == 0) throw std::invalid_argument("index dimensions must be positive");
}

void exact_index::add(std::span<const float> vector) {
  if (vector.size() != dimensions_) {
    throw std::invalid_argument("vector length does not match the index dimensions");
  }
  matrix_.insert(matrix_.end(), vector.begin(), vector.end());
  ++rows_;
}

float exact_index::score(std::span<const float> query, std::uint32_t row) const {
  return dot(query.data(), matrix_.data() + std::size_t{row} * dimensions_, dimensions_);
}

std::vector<scored_row> exact_index::search(std::span<const float> query, std::size_t k,
                                            std::span<const std::uint8_t> allowed) const {
  if (query.size() != dimensions_) {
    throw std::invalid_argument("query length does not match the index dimensions");
  }
  if (allowed.size() != rows_) throw std::invalid_argument("allowed mask has the wrong size");
  std::vector<scored_row> heap;
  if (k == 0) return heap;
  heap.reserve(k + 1);
  const float* row_data = matrix_.data();
  for (std::uint32_t row = 0; row < rows_; ++row, row_data += dimensions_) {
    if (allowed[row] == 0) continue;
    const scored_row hit{row, dot(query.data(), row_data, dimensions_)};
    if (heap.size() < k) {
      heap.push_back(hit);
      std::push_heap(heap.begin(), heap.end(), better);
    } else if (better(hit, heap.front())) {
      std::pop_heap(heap.begin(), heap.end(), better);
      heap.back() = hit;
      std::push_heap(heap.begin(), heap.end(), better);
    }
  }
  std::sort_heap(heap.begin(), heap.end(), better);
  return heap;
}

}  // namespace parley::rag
