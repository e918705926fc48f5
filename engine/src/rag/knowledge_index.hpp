#pragma once

// One tenant's searchable knowledge: every chunk of the tenant in an exact vector
// index and a BM25 index (a chunk's row there holds its document's title too),
// fused by weighted reciprocal rank fusion, searched on behalf of
// one agent (only the documents enabled for it). Built from a corpus read from
// PostgreSQL, which stays the source of truth; immutable once built, so queries
// share it without locks while a newer version is being built.
//
// Relevance gate: a chunk is a candidate only if it shares a term with the query
// (BM25 > 0) or its cosine similarity reaches min_score. When nothing passes the
// result is empty, and the agent answers with its refusal text instead of
// stretching unrelated context into an answer.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "rag/bm25_index.hpp"
#include "rag/exact_index.hpp"
#include "rag/fusion.hpp"
#include "rag/hnsw_index.hpp"

namespace parley::rag {

struct corpus_document {
  std::string id;
  std::string title;
  std::string source_uri;
};

struct corpus_chunk {
  std::string id;
  std::string document_id;
  int ordinal = 0;
  std::string content;
  std::string embedding_model;
  std::vector<float> embedding;
  std::string heading;  // the section's heading path; empty when none
  int page = 0;         // 1-based PDF page; 0 when the format has none
};

// An enabled agent_documents row.
struct corpus_assignment {
  std::string agent_id;
  std::string document_id;
};

struct corpus {
  std::vector<corpus_document> documents;
  std::vector<corpus_chunk> chunks;
  std::vector<corpus_assignment> assignments;
};

// How the vector and the lexical ranking are fused (rag/fusion.hpp): RRF's k and
// how much each ranking counts. These defaults are the original method; the
// product's tuned values are config's retrieval.fusion.
struct fusion_params {
  double k = rrf_k;
  double lexical_weight = 1.0;
  double vector_weight = 1.0;
};

struct retrieval_options {
  std::size_t top_k = 5;
  double min_score = 0.2;  // cosine a chunk without a shared term must reach
  fusion_params fusion;
  bm25_params bm25;
};

struct retrieved_passage {
  std::string chunk_id;
  std::string document_id;
  std::string title;
  std::string source_uri;
  int ordinal = 0;
  std::string content;
  double score = 0;  // fused RRF score: what the ranking is by
  float cosine = 0;  // 0 for chunks embedded by another model
  float bm25 = 0;
  std::string heading;
  int page = 0;
  std::size_t vector_rank = 0;   // 1-based place in the vector ranking; 0 when not in it
  std::size_t lexical_rank = 0;  // the same in the BM25 ranking
  std::uint32_t position = 0;    // the chunk's place in the index that found it
};

// What the index knows of one chunk, for citing it: views into the index, valid
// while it lives.
struct chunk_source {
  std::string_view document_id;
  std::string_view title;
  std::string_view source_uri;
  int ordinal = 0;
  std::string_view heading;
  int page = 0;
  std::string_view content;
};

// Which index the dense side searches: exact (the default) or, for tenants large
// enough that an exact scan is slow, HNSW (rag/hnsw_index.hpp: approximate; an
// agent that may see only a few rows is still answered exactly). Either holds the
// only copy of the vectors.
struct vector_index_options {
  bool hnsw = false;
  std::size_t m = 16;
  std::size_t ef_construction = 200;
  std::size_t ef_search = 128;  // recall@10 0.94 on 100,000 hashing vectors (make bench)
};

// Which vectors the dense side holds: those of one model, of one length. The
// embedder's name is what the tenant chose it by (llm/embedders.hpp): a query is
// embedded by that embedder and no other.
struct embedding_space {
  std::string embedder;
  std::string model;
  std::size_t dimensions = 0;
};

class knowledge_index {
 public:
  // Chunks whose embedding_model is not the space's (or whose vector has the wrong
  // length) take part in lexical ranking only: a query vector is never compared
  // with another model's vectors.
  knowledge_index(corpus source, embedding_space space, vector_index_options vectors = {});

  const embedding_space& space() const noexcept { return space_; }

  std::size_t chunk_count() const noexcept { return chunks_.size(); }
  std::size_t embedded_count() const noexcept { return dense_to_chunk_.size(); }
  bool uses_hnsw() const noexcept { return hnsw_.has_value(); }

  // About what the index takes on the heap: the budget of the index cache counts it.
  std::size_t memory_bytes() const noexcept { return memory_bytes_; }

  // The best passages for `query`, whose vector in this index's space is
  // `query_vector`, among the documents enabled for `agent_id`, best first, at most
  // options.top_k. Throws std::invalid_argument for a vector of another length.
  std::vector<retrieved_passage> search(std::string_view agent_id, std::string_view query,
                                        std::span<const float> query_vector,
                                        const retrieval_options& options) const;

  // The chunk at a passage's `position`, which must come from this index's search;
  // throws std::out_of_range past its chunks.
  chunk_source source_of(std::uint32_t position) const;

 private:
  struct chunk_entry {
    std::string id;
    std::uint32_t document = 0;  // index into documents_
    int ordinal = 0;
    std::string content;
    std::int64_t dense_row = -1;  // row in dense_, -1 when not embedded by our model
    std::string heading;
    int page = 0;
  };

  // Per agent, which rows of each index it may see.
  struct agent_masks {
    std::vector<std::uint8_t> dense;
    std::vector<std::uint8_t> lexical;
  };

  float dense_score(std::span<const float> query, std::int64_t row) const;

  embedding_space space_;
  std::vector<corpus_document> documents_;
  std::vector<chunk_entry> chunks_;
  exact_index dense_;  // empty when hnsw_ holds the vectors
  std::optional<hnsw_index> hnsw_;
  std::vector<std::uint32_t> dense_to_chunk_;
  bm25_index lexical_;  // rows are indexes into chunks_
  std::unordered_map<std::string, agent_masks> masks_;
  std::size_t memory_bytes_ = 0;
};

}  // namespace parley::rag
