#include "rag/eval_metrics.hpp"

#include <algorithm>
#include <cmath>

namespace parley::rag {

namespace {

int grade_of(const judgements& judged, const std::string& id) {
  const auto it = judged.find(id);
  return it == judged.end() ? 0 : it->second;
}

double discounted(int grade, std::size_t rank_from_zero) {
  return grade / std::log2(static_cast<double>(rank_from_zero) + 2.0);
}

}  // namespace

double ndcg_at(const std::vector<std::string>& ranked, const judgements& judged, std::size_t k) {
  double dcg = 0;
  for (std::size_t i = 0; i < std::min(k, ranked.size()); ++i) {
    dcg += discounted(std::max(0, grade_of(judged, ranked[i])), i);
  }
  std::vector<int> best;
  for (const auto& [id, grade] : judged)
    if (grade > 0) best.push_back(grade);
  std::ranges::sort(best, std::greater<>());
  double ideal = 0;
  for (std::size_t i = 0; i < std::min(k, best.size()); ++i) ideal += discounted(best[i], i);
  return ideal > 0 ? dcg / ideal : 0;
}

double recall_at(const std::vector<std::string>& ranked, const judgements& judged, std::size_t k) {
  const auto relevant = std::ranges::count_if(judged, [](const auto& j) { return j.second > 0; });
  if (relevant == 0) return 0;
  std::size_t found = 0;
  for (std::size_t i = 0; i < std::min(k, ranked.size()); ++i)
    found += grade_of(judged, ranked[i]) > 0;
  return static_cast<double>(found) / static_cast<double>(relevant);
}

double reciprocal_rank_at(const std::vector<std::string>& ranked, const judgements& judged,
                          std::size_t k) {
  for (std::size_t i = 0; i < std::min(k, ranked.size()); ++i) {
    if (grade_of(judged, ranked[i]) > 0) return 1.0 / static_cast<double>(i + 1);
  }
  return 0;
}

}  // namespace parley::rag
