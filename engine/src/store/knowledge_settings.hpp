#pragma once

// A tenant's own knowledge settings, kept in tenants.settings (jsonb): how its
// documents are cut into chunks and whether its vector index is HNSW. Values that
// are absent, of the wrong type or out of range read as absent, so the engine's
// configured defaults apply. They are written with the tenant's other fields
// (store/tenant_repo.hpp, tenant_patch), but for the embedder.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace parley::store {

class result;
class transaction;

struct knowledge_settings {
  std::optional<std::size_t> chunk_tokens;   // min_chunk_tokens..max_chunk_tokens
  std::optional<std::size_t> chunk_overlap;  // 0..chunk_tokens-1
  bool hnsw = false;                         // approximate vector search for large tenants
  // The embedder (llm/embedders.hpp) its chunks and queries are embedded by; absent:
  // the configured default. Changed only by `parley reindex`, which re-embeds first.
  std::optional<std::string> embedder;
};

inline constexpr std::size_t min_chunk_tokens = 20;
inline constexpr std::size_t max_chunk_tokens = 4000;

// The select-list of tenants' columns knowledge_settings_of() reads.
extern const std::string_view knowledge_settings_columns;
knowledge_settings knowledge_settings_of(const result& r, int row);

knowledge_settings read_knowledge_settings(transaction& tx, std::string_view tenant_id);

}  // namespace parley::store
