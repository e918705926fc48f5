#include "store/knowledge_settings.hpp"

#include <string>

#include "store/db.hpp"

namespace parley::store {

// Whole numbers only: anything else reads as NULL.
const std::string_view knowledge_settings_columns = R"sql(
    CASE WHEN jsonb_typeof(settings->'chunk_tokens') = 'number'
          AND (settings->>'chunk_tokens') ~ '^[0-9]{1,9}$'
         THEN (settings->>'chunk_tokens')::bigint END AS chunk_tokens,
    CASE WHEN jsonb_typeof(settings->'chunk_overlap') = 'number'
          AND (settings->>'chunk_overlap') ~ '^[0-9]{1,9}$'
         THEN (settings->>'chunk_overlap')::bigint END AS chunk_overlap,
    coalesce(settings->'hnsw' = 'true'::jsonb, false) AS hnsw,
    CASE WHEN jsonb_typeof(settings->'embedder') = 'string'
         THEN settings->>'embedder' END AS embedder)sql";

namespace {

std::optional<std::size_t> in_range(const result& r, int row, std::string_view col, std::size_t low,
                                    std::size_t high) {
  const auto v = r.opt_i64(row, col);
  if (!v || *v < static_cast<std::int64_t>(low) || *v > static_cast<std::int64_t>(high)) {
    return std::nullopt;
  }
  return static_cast<std::size_t>(*v);
}

}  // namespace

knowledge_settings knowledge_settings_of(const result& r, int row) {
  knowledge_settings s;
  s.chunk_tokens = in_range(r, row, "chunk_tokens", min_chunk_tokens, max_chunk_tokens);
  // An overlap is only meaningful against the size it was set with.
  if (s.chunk_tokens) s.chunk_overlap = in_range(r, row, "chunk_overlap", 0, *s.chunk_tokens - 1);
  s.hnsw = r.boolean(row, r.column("hnsw"));
  s.embedder = r.opt_str(row, "embedder");
  return s;
}

knowledge_settings read_knowledge_settings(transaction& tx, std::string_view tenant_id) {
  const auto r = tx.exec(
      "SELECT " + std::string(knowledge_settings_columns) + " FROM tenants WHERE id = $1::uuid",
      {tenant_id});
  if (r.empty()) return {};
  return knowledge_settings_of(r, 0);
}

}  // namespace parley::store
