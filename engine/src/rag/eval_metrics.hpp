#pragma once

// Retrieval quality as BEIR reports it (trec_eval's definitions): for one query, a
// ranking of document ids against its judgements (document id -> relevance grade,
// relevant when > 0). `parley eval` averages them over a data set's queries.

#include <cstddef>
#include <string>
#include <unordered_map>
#include <vector>

namespace parley::rag {

using judgements = std::unordered_map<std::string, int>;

// Discounted cumulative gain of the first k, grade / log2(rank + 1), over the best
// possible; 0 when nothing is relevant.
double ndcg_at(const std::vector<std::string>& ranked, const judgements& judged, std::size_t k);

// The share of the relevant documents found in the first k.
double recall_at(const std::vector<std::string>& ranked, const judgements& judged, std::size_t k);

// 1 / the rank of the first relevant document within the first k, else 0.
double reciprocal_rank_at(const std::vector<std::string>& ranked, const judgements& judged,
                          std::size_t k);

}  // namespace parley::rag
