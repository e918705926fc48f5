#pragma once

// Reciprocal rank fusion (Cormack et al., 2009): score(d) = sum over rankings of
// 1 / (k + rank(d)), rank starting at 1. It needs no score calibration between
// the vector and the lexical ranking, only their orders.

#include <cstdint>
#include <span>
#include <vector>

namespace parley::rag {

struct fused_row {
  std::uint32_t row = 0;
  double score = 0;
};

inline constexpr double rrf_k = 60.0;

// Every row of any ranking, best fused score first; ties keep the order in which
// rows first appear across the rankings.
std::vector<fused_row> reciprocal_rank_fusion(std::span<const std::vector<std::uint32_t>> rankings,
                                              double k = rrf_k);

}  // namespace parley::rag
