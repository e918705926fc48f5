#pragma once

// Exact nearest-neighbour search: one contiguous row-major float32 matrix scanned
// with dot products (the vectors are unit length, so this is cosine similarity).
// Memory-bandwidth bound and simple enough to be obviously right; it is the
// baseline any approximate index is measured against. The dot product runs on
// AVX2+FMA when the CPU running the engine has them (checked once at start-up,
// since the build machine's CPU may differ), else on portable code that compilers
// vectorise with SSE.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace parley::rag {

struct scored_row {
  std::uint32_t row = 0;
  float score = 0;
};

// Dot products of n floats: the portable kernel, and the fastest one this CPU runs
// (AVX2+FMA when it has them, the portable one otherwise). They may differ in the
// last bits, as the order of additions differs.
float dot_portable(const float* a, const float* b, std::size_t n) noexcept;
float dot(const float* a, const float* b, std::size_t n) noexcept;
bool dot_is_vectorised() noexcept;

class exact_index {
 public:
  explicit exact_index(std::size_t dimensions);

  std::size_t dimensions() const noexcept { return dimensions_; }
  std::size_t size() const noexcept { return rows_; }
  std::size_t memory_bytes() const noexcept { return matrix_.capacity() * sizeof(float); }

  // Room for `rows` rows, so that adding them does not reallocate.
  void reserve(std::size_t rows);

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
