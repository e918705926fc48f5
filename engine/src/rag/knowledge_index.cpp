#include "rag/knowledge_index.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>
#include <string>

#include "rag/text.hpp"

namespace parley::rag {

namespace {

// How deep each ranking is read before fusion: enough that a passage ranked well by
// one method but poorly by the other can still win.
std::size_t candidate_depth(std::size_t top_k) { return std::max<std::size_t>(top_k * 4, 50); }

// 1-based place of `row` in `ranking`, 0 when absent (rankings are short: a linear
// search over the candidate depth).
std::size_t rank_in(const std::vector<std::uint32_t>& ranking, std::uint32_t row) {
  const auto it = std::find(ranking.begin(), ranking.end(), row);
  return it == ranking.end() ? 0 : static_cast<std::size_t>(it - ranking.begin()) + 1;
}

}  // namespace

knowledge_index::knowledge_index(corpus source, embedding_space space, vector_index_options vectors)
    : space_(std::move(space)), dense_(space_.dimensions) {
  const auto ours = [this](const corpus_chunk& c) {
    return c.embedding_model == space_.model && c.embedding.size() == space_.dimensions;
  };
  const auto embedded =
      static_cast<std::size_t>(std::count_if(source.chunks.begin(), source.chunks.end(), ours));
  if (vectors.hnsw) {
    hnsw_.emplace(space_.dimensions, embedded,
                  hnsw_params{vectors.m, vectors.ef_construction, vectors.ef_search});
  } else {
    dense_.reserve(embedded);
  }

  std::unordered_map<std::string, std::uint32_t> document_index;
  documents_ = std::move(source.documents);
  for (std::uint32_t i = 0; i < documents_.size(); ++i) document_index.emplace(documents_[i].id, i);

  std::vector<std::vector<std::string>> document_terms;  // of each title
  document_terms.reserve(documents_.size());
  for (const auto& d : documents_) document_terms.push_back(terms(d.title));

  chunks_.reserve(source.chunks.size());
  for (auto& c : source.chunks) {
    const auto doc = document_index.find(c.document_id);
    if (doc == document_index.end()) continue;  // cannot happen with the foreign key
    chunk_entry entry{std::move(c.id),      doc->second, c.ordinal, std::move(c.content), -1,
                      std::move(c.heading), c.page};
    if (ours(c)) {
      entry.dense_row = static_cast<std::int64_t>(dense_to_chunk_.size());
      if (hnsw_) {
        hnsw_->add(c.embedding);
      } else {
        dense_.add(c.embedding);
      }
      dense_to_chunk_.push_back(static_cast<std::uint32_t>(chunks_.size()));
    }
    // A chunk's lexical row holds its section's heading and its document's title
    // too: a passage cut from a longer text rarely repeats what says what it is about.
    auto row = terms(entry.content);
    for (auto& t : terms(entry.heading)) row.push_back(std::move(t));
    const auto& title_terms = document_terms[entry.document];
    row.insert(row.end(), title_terms.begin(), title_terms.end());
    lexical_.add(row);
    chunks_.push_back(std::move(entry));
    c.embedding = {};  // the matrix holds a copy; free the row as we go
  }

  // Which documents each agent may see, then the rows of each index that follow.
  std::unordered_map<std::string, std::vector<std::uint8_t>> enabled_documents;
  for (const auto& a : source.assignments) {
    const auto doc = document_index.find(a.document_id);
    if (doc == document_index.end()) continue;
    auto& docs = enabled_documents[a.agent_id];
    docs.resize(documents_.size(), 0);
    docs[doc->second] = 1;
  }
  for (const auto& [agent, docs] : enabled_documents) {
    agent_masks m{std::vector<std::uint8_t>(dense_to_chunk_.size(), 0),
                  std::vector<std::uint8_t>(chunks_.size(), 0)};
    for (std::uint32_t i = 0; i < chunks_.size(); ++i) {
      if (docs[chunks_[i].document] == 0) continue;
      m.lexical[i] = 1;
      if (chunks_[i].dense_row >= 0) m.dense[static_cast<std::size_t>(chunks_[i].dense_row)] = 1;
    }
    masks_.emplace(agent, std::move(m));
  }

  memory_bytes_ = dense_.memory_bytes() + (hnsw_ ? hnsw_->memory_bytes() : 0) +
                  lexical_.memory_bytes() + dense_to_chunk_.capacity() * sizeof(std::uint32_t);
  for (const auto& d : documents_) {
    memory_bytes_ += sizeof(d) + d.id.capacity() + d.title.capacity() + d.source_uri.capacity();
  }
  for (const auto& c : chunks_) {
    memory_bytes_ += sizeof(c) + c.id.capacity() + c.content.capacity() + c.heading.capacity();
  }
  for (const auto& [agent, m] : masks_) {
    memory_bytes_ += agent.capacity() + m.dense.capacity() + m.lexical.capacity();
  }
}

float knowledge_index::dense_score(std::span<const float> query, std::int64_t row) const {
  const auto r = static_cast<std::uint32_t>(row);
  return hnsw_ ? hnsw_->score(query, r) : dense_.score(query, r);
}

std::vector<retrieved_passage> knowledge_index::search(std::string_view agent_id,
                                                       std::string_view query,
                                                       std::span<const float> query_vector,
                                                       const retrieval_options& options) const {
  if (query_vector.size() != space_.dimensions) {
    throw std::invalid_argument("a query vector of " + std::to_string(query_vector.size()) +
                                " dimensions for an index of " + std::to_string(space_.dimensions));
  }
  const auto masks = masks_.find(std::string(agent_id));
  const auto query_terms = terms(query);
  // Without a content word there is nothing to match on, lexically or semantically.
  if (masks == masks_.end() || query_terms.empty() || options.top_k == 0) return {};

  const auto depth = candidate_depth(options.top_k);
  const auto bm25 = lexical_.scores(query_terms, masks->second.lexical, options.bm25);  // by chunk

  std::array<std::vector<std::uint32_t>, 2> rankings;
  const auto dense_hits = hnsw_ ? hnsw_->search(query_vector, depth, masks->second.dense)
                                : dense_.search(query_vector, depth, masks->second.dense);
  for (const auto& h : dense_hits) {
    const auto chunk = dense_to_chunk_[h.row];
    if (h.score >= options.min_score || bm25[chunk] > 0) rankings[0].push_back(chunk);
  }
  for (const auto& h : ranked(bm25, depth)) rankings[1].push_back(h.row);

  std::vector<retrieved_passage> out;
  const std::array<double, 2> weights{options.fusion.vector_weight, options.fusion.lexical_weight};
  for (const auto& f : reciprocal_rank_fusion(rankings, options.fusion.k, weights)) {
    if (out.size() == options.top_k) break;
    const auto& c = chunks_[f.row];
    const auto& d = documents_[c.document];
    out.push_back({c.id, d.id, d.title, d.source_uri, c.ordinal, c.content, f.score,
                   c.dense_row >= 0 ? dense_score(query_vector, c.dense_row) : 0.0F,
                   static_cast<float>(bm25[f.row]), c.heading, c.page, rank_in(rankings[0], f.row),
                   rank_in(rankings[1], f.row), f.row});
  }
  return out;
}

chunk_source knowledge_index::source_of(std::uint32_t position) const {
  const auto& c = chunks_.at(position);
  const auto& d = documents_[c.document];
  return {d.id, d.title, d.source_uri, c.ordinal, c.heading, c.page, c.content};
}

}  // namespace parley::rag
