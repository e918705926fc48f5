#pragma once

// Approximate nearest-neighbour search: an HNSW graph (hnswlib, inner product) over
// one tenant's vectors, for tenants whose exact scan has grown too slow. Rows are
// numbered in the order they are added, as in exact_index, and a search sees only
// the rows an agent may see.
//
// The filter: hnswlib 0.6.2 (Debian 12) has no filtered searchKnn, so the base
// layer is searched here, on hnswlib's graph, the way later hnswlib versions do it:
// the walk crosses every node, but only allowed ones enter the result. A
// restrictive filter makes the walk longer, so the beam (ef) grows with the
// inverse of the allowed fraction; and when so few rows are allowed that scoring
// each of them costs less than walking the graph (fewer than 8·√(ef·size): about
// 28,000 of 100,000 rows at ef 128), they are scored exactly instead. That is a choice
// of the exact answer where it is also the cheaper one, not a fallback on error:
// either way the k best allowed rows come back when k exist.
//
// Thread safety: add() is for the single thread that builds the index; search()
// and score() may then run concurrently (the search beam is a parameter, never
// stored state).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "rag/exact_index.hpp"

namespace parley::rag {

struct hnsw_params {
  std::size_t m = 16;                 // links per node (twice as many on the base layer)
  std::size_t ef_construction = 200;  // beam while building: graph quality
  std::size_t ef_search = 128;        // beam while searching: recall against speed
};

class hnsw_index {
 public:
  // Room for `capacity` rows, allocated at once (hnswlib does not grow by itself).
  hnsw_index(std::size_t dimensions, std::size_t capacity, hnsw_params params = {});
  ~hnsw_index();
  hnsw_index(hnsw_index&&) noexcept;
  hnsw_index& operator=(hnsw_index&&) noexcept;

  std::size_t dimensions() const noexcept { return dimensions_; }
  std::size_t size() const noexcept { return rows_; }
  std::size_t capacity() const noexcept { return capacity_; }
  const hnsw_params& params() const noexcept { return params_; }

  // What the graph, its copy of the vectors and hnswlib's bookkeeping take.
  std::size_t memory_bytes() const noexcept;

  // Appends a row; its number is the previous size(). Throws std::invalid_argument
  // if the vector has the wrong length, std::length_error when the index is full.
  void add(std::span<const float> vector);

  // Dot product of `query` with one row, as exact_index computes it.
  float score(std::span<const float> query, std::uint32_t row) const;

  // About the `k` best rows among those whose byte in `allowed` is non-zero
  // (`allowed` has size() bytes), best first, with their exact dot products;
  // equal scores keep row order. Never a row that is not allowed.
  std::vector<scored_row> search(std::span<const float> query, std::size_t k,
                                 std::span<const std::uint8_t> allowed) const;

  // The same with the beam given (at least k is used), for tests and benchmarks.
  std::vector<scored_row> search(std::span<const float> query, std::size_t k,
                                 std::span<const std::uint8_t> allowed,
                                 std::size_t ef_search) const;

 private:
  struct graph;

  std::size_t dimensions_;
  std::size_t capacity_;
  hnsw_params params_;
  std::size_t rows_ = 0;
  std::unique_ptr<graph> graph_;
};

}  // namespace parley::rag
