#include "store/reindex_repo.hpp"

#include "store/db.hpp"
#include "store/knowledge_repo.hpp"

namespace parley::store {

namespace {

// The condition chunks_to_embed and the switch agree on.
constexpr std::string_view lacks_model =
    "embedding_model IS DISTINCT FROM $1 AND next_embedding_model IS DISTINCT FROM $1";

}  // namespace

std::vector<chunk_text> chunks_to_embed(transaction& tx, std::string_view model,
                                        std::string_view after_id, std::size_t limit) {
  const auto r = tx.exec(
      "SELECT id, heading, content FROM chunks WHERE " + std::string(lacks_model) +
          " AND id > coalesce(nullif($2, '')::uuid, '00000000-0000-0000-0000-000000000000') "
          "ORDER BY id LIMIT $3",
      {model, after_id, static_cast<std::int64_t>(limit)});
  std::vector<chunk_text> out;
  out.reserve(static_cast<std::size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) out.push_back({r.str(i, 0), r.str(i, 1), r.str(i, 2)});
  return out;
}

std::int64_t count_chunks_to_embed(transaction& tx, std::string_view model) {
  return tx.exec("SELECT count(*) FROM chunks WHERE " + std::string(lacks_model), {model})
      .i64(0, 0);
}

void stage_embeddings(transaction& tx, std::string_view model, const std::vector<std::string>& ids,
                      const std::vector<std::vector<float>>& vectors) {
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const auto bytes = encode_embedding(vectors[i]);
    tx.exec("UPDATE chunks SET next_embedding = $2, next_embedding_model = $3 WHERE id = $1::uuid",
            {ids[i], param::bytea(std::as_bytes(std::span(bytes.data(), bytes.size()))), model});
  }
}

std::int64_t switch_embedder(transaction& tx, std::string_view tenant_id, std::string_view embedder,
                             std::string_view model) {
  tx.exec("SELECT 1 FROM tenants WHERE id = $1::uuid FOR UPDATE", {tenant_id});
  if (const auto left = count_chunks_to_embed(tx, model); left > 0) return left;
  tx.exec(R"sql(
      UPDATE chunks SET embedding = next_embedding, embedding_model = next_embedding_model,
                        next_embedding = NULL, next_embedding_model = NULL
      WHERE next_embedding_model = $1)sql",
          {model});
  tx.exec(
      "UPDATE chunks SET next_embedding = NULL, next_embedding_model = NULL "
      "WHERE next_embedding_model IS NOT NULL");
  tx.exec(
      "UPDATE tenants SET settings = jsonb_set(settings, '{embedder}', to_jsonb($2::text)) "
      "WHERE id = $1::uuid",
      {tenant_id, embedder});
  bump_knowledge_version(tx, tenant_id);
  return 0;
}

}  // namespace parley::store
