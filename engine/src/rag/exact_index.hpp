#pragma once

// Exact nearest-neighbour search: one contiguous row-major float32 matrix scanned
// with dot products (the vectors are unit length, so this is cosine similarity).
// Memory-bandwidth bound and simple enough to be obviously right; it is the
// baseline any approximate index is measured against.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace parley::rag {

struct scored_row {
  std::uint32_t row = 0;
  float score = 0;
};

class exact_index {
 public:
  explicit exact_index(std::size_t dimensions);

  std::size_t dimensions() const noexcept { return dimensions_; }
  std::size_t size() const noexcept { return rows_; }
  std::size_t memory_bytes() const noexcept { return matrix_.capacity() * sizeof(float); }

  // Appends a row; its number is the previous size(). Throws std::invalid_argument
  // if the vector has the wrong length.
  void add(std::span<const float> vector);

  // Dot product of `query` with one row.
  float score(std::span<const float> query, std::uint32_t row) const;

  // The `k` best rows among those whose byte in `allowed` is non-zero (`allowed`
  // has size() bytes), best first; equal scores keep row order.
  std::vector<scored_row> search(std::span<const float> query, std::size_t k,
                                 std::span<const std::uint8_t> allowed) const;

 private:
  std::size_t dimensions_;
  std::size_t rows_ = 0;
  std::vector<float> matrix_;
};

}  // namespace parley::rag
