#include "rag/fusion.hpp"

#include <algorithm>
#include <stdexcept>
#include <unordered_map>

namespace parley::rag {

std::vector<fused_row> reciprocal_rank_fusion(std::span<const std::vector<std::uint32_t>> rankings,
                                              double k, std::span<const double> weights) {
  if (!weights.empty() && weights.size() != rankings.size()) {
    throw std::invalid_argument("one fusion weight per ranking");
  }
  std::vector<fused_row> out;
  std::unordered_map<std::uint32_t, std::size_t> position;  // row -> index in out
  for (std::size_t r = 0; r < rankings.size(); ++r) {
    const auto& ranking = rankings[r];
    const double weight = weights.empty() ? 1.0 : weights[r];
    for (std::size_t rank = 0; rank < ranking.size(); ++rank) {
      const auto row = ranking[rank];
      const auto [it, inserted] = position.try_emplace(row, out.size());
      if (inserted) out.push_back({row, 0.0});
      out[it->second].score += weight / (k + static_cast<double>(rank + 1));
    }
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const fused_row& a, const fused_row& b) { return a.score > b.score; });
  return out;
}

}  // namespace parley::rag
