#pragma once

// Reciprocal rank fusion (Cormack et al., 2009): score(d) = sum over rankings of
// weight / (k + rank(d)), rank starting at 1. It needs no score calibration between
// the vector and the lexical ranking, only their orders; the weights say how much
// each ranking is trusted (all 1 in the original method).

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
// rows first appear across the rankings. `weights` holds one weight per ranking,
// or is empty for all 1; a ranking of weight 0 adds no score but its rows still
// appear (after every row that scored).
std::vector<fused_row> reciprocal_rank_fusion(std::span<const std::vector<std::uint32_t>> rankings,
                                              double k = rrf_k,
                                              std::span<const double> weights = {});

}  // namespace parley::rag
