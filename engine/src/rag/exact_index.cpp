#include "rag/exact_index.hpp"

#include <algorithm>
#include <stdexcept>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace parley::rag {

namespace {

#if defined(__x86_64__)
// Eight lanes, four accumulators: enough independent FMAs in flight to hide their
// latency, so a row costs what reading it from memory costs.
__attribute__((target("avx2,fma"))) float dot_avx2(const float* a, const float* b,
                                                   std::size_t n) noexcept {
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
  __m256 s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
  std::size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
    s2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16), s2);
    s3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24), s3);
  }
  for (; i + 8 <= n; i += 8) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
  }
  const __m256 s = _mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3));
  __m128 h = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
  h = _mm_add_ps(h, _mm_movehl_ps(h, h));
  h = _mm_add_ss(h, _mm_movehdup_ps(h));
  float sum = _mm_cvtss_f32(h);
  for (; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

bool cpu_has_avx2() noexcept {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
#endif

using dot_kernel = float (*)(const float*, const float*, std::size_t) noexcept;

// Chosen once, by what the CPU running us supports (the build machine's may differ).
dot_kernel pick_kernel() noexcept {
#if defined(__x86_64__)
  if (cpu_has_avx2()) return dot_avx2;
#endif
  return dot_portable;
}

// A function-local static: safe whatever order static initialisers run in.
dot_kernel best_dot() noexcept {
  static const dot_kernel kernel = pick_kernel();
  return kernel;
}

// Heap order: the worst kept hit on top; a lower row wins a tie.
bool better(const scored_row& a, const scored_row& b) noexcept {
  return a.score > b.score || (a.score == b.score && a.row < b.row);
}

}  // namespace

float dot_portable(const float* a, const float* b, std::size_t n) noexcept {
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

float dot(const float* a, const float* b, std::size_t n) noexcept { return best_dot()(a, b, n); }

bool dot_is_vectorised() noexcept { return best_dot() != dot_portable; }

exact_index::exact_index(std::size_t dimensions) : dimensions_(dimensions) {
  if (dimensions == 0) throw std::invalid_argument("index dimensions must be positive");
}

void exact_index::reserve(std::size_t rows) { matrix_.reserve(rows * dimensions_); }

void exact_index::add(std::span<const float> vector) {
  if (vector.size() != dimensions_) {
    throw std::invalid_argument("vector length does not match the index dimensions");
  }
  matrix_.insert(matrix_.end(), vector.begin(), vector.end());
  ++rows_;
}

float exact_index::score(std::span<const float> query, std::uint32_t row) const {
  return best_dot()(query.data(), matrix_.data() + std::size_t{row} * dimensions_, dimensions_);
}

std::vector<scored_row> exact_index::search(std::span<const float> query, std::size_t k,
                                            std::span<const std::uint8_t> allowed) const {
  if (query.size() != dimensions_) {
    throw std::invalid_argument("query length does not match the index dimensions");
  }
  if (allowed.size() != rows_) throw std::invalid_argument("allowed mask has the wrong size");
  std::vector<scored_row> heap;
  if (k == 0) return heap;
  heap.reserve(std::min(k, rows_));
  const dot_kernel kernel = best_dot();
  const float* q = query.data();
  const float* row_data = matrix_.data();
  const auto rows = static_cast<std::uint32_t>(rows_);
  std::uint32_t row = 0;
  // Filling the heap, then replacing its worst hit: rows come in increasing order,
  // so a later row replaces the worst only with a strictly higher score.
  for (; row < rows && heap.size() < k; ++row, row_data += dimensions_) {
    if (allowed[row] == 0) continue;
    heap.push_back({row, kernel(q, row_data, dimensions_)});
    std::push_heap(heap.begin(), heap.end(), better);
  }
  float worst = heap.empty() ? 0 : heap.front().score;
  for (; row < rows; ++row, row_data += dimensions_) {
    if (allowed[row] == 0) continue;
    const float s = kernel(q, row_data, dimensions_);
    if (!(s > worst)) continue;
    std::pop_heap(heap.begin(), heap.end(), better);
    heap.back() = {row, s};
    std::push_heap(heap.begin(), heap.end(), better);
    worst = heap.front().score;
  }
  std::sort_heap(heap.begin(), heap.end(), better);
  return heap;
}

}  // namespace parley::rag
