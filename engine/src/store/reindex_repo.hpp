#pragma once

// The rows behind `parley reindex` (knowledge/reindex.hpp): a tenant's chunks are
// embedded anew into next_embedding while queries keep using `embedding`, then one
// transaction moves the new vectors into place and switches the tenant's embedder
// (migration 0005). Per-tenant tables: call inside a tenant transaction.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace parley::store {

class transaction;

struct chunk_text {
  std::string id;
  std::string heading;
  std::string content;
};

// Chunks with neither a vector nor a staged vector of `model`, ordered by id,
// after `after_id` (empty: from the first), at most `limit`.
std::vector<chunk_text> chunks_to_embed(transaction& tx, std::string_view model,
                                        std::string_view after_id, std::size_t limit);

std::int64_t count_chunks_to_embed(transaction& tx, std::string_view model);

// Stages `vectors[i]` of `model` for chunk `ids[i]`; a chunk deleted meanwhile is skipped.
void stage_embeddings(transaction& tx, std::string_view model, const std::vector<std::string>& ids,
                      const std::vector<std::vector<float>>& vectors);

// With the tenant's row locked (so no document completes halfway through): when
// every chunk has a vector of `model`, moves the staged ones into place, drops any
// other staged vectors, makes `embedder` the tenant's and bumps its knowledge
// version, and returns 0. Otherwise changes nothing and returns how many chunks
// still lack one (documents that completed meanwhile).
std::int64_t switch_embedder(transaction& tx, std::string_view tenant_id, std::string_view embedder,
                             std::string_view model);

}  // namespace parley::store
