#include "store/knowledge_repo.hpp"

#include <bit>
#include <cstring>

#include "store/db.hpp"

namespace parley::store {

std::int64_t knowledge_version(transaction& tx, std::string_view tenant_id) {
  const auto r = tx.exec("SELECT knowledge_version FROM tenants WHERE id = $1::uuid", {tenant_id});
  if (r.empty()) throw db_error("tenant not found", "");
  return r.i64(0, 0);
}

void bump_knowledge_version(transaction& tx, std::string_view tenant_id) {
  tx.exec(
      "UPDATE tenants SET knowledge_version = knowledge_version + 1, updated_at = now() "
      "WHERE id = $1::uuid",
      {tenant_id});
}

corpus_rows read_corpus(transaction& tx) {
  return {tx.exec("SELECT id, title, coalesce(source_uri, '') AS source_uri FROM documents "
                  "WHERE status = 'ready' ORDER BY created_at, id"),
          tx.exec("SELECT c.id, c.document_id, c.ordinal, c.content, "
                  "coalesce(c.embedding_model, ''), c.embedding "
                  "FROM chunks c JOIN documents d ON d.id = c.document_id AND d.status = 'ready' "
                  "ORDER BY c.document_id, c.ordinal"),
          tx.exec("SELECT agent_id, document_id FROM agent_documents WHERE enabled")};
}

rag::corpus decode_corpus(const corpus_rows& rows) {
  rag::corpus c;
  const auto& docs = rows.documents;
  c.documents.reserve(docs.rows());
  for (int i = 0; i < docs.rows(); ++i) {
    c.documents.push_back({docs.str(i, 0), docs.str(i, 1), docs.str(i, 2)});
  }
  const auto& chunks = rows.chunks;
  c.chunks.reserve(chunks.rows());
  for (int i = 0; i < chunks.rows(); ++i) {
    c.chunks.push_back({chunks.str(i, 0), chunks.str(i, 1), static_cast<int>(chunks.i64(i, 2)),
                        chunks.str(i, 3), chunks.str(i, 4), decode_embedding(chunks.bytea(i, 5))});
  }
  const auto& assigned = rows.assignments;
  c.assignments.reserve(assigned.rows());
  for (int i = 0; i < assigned.rows(); ++i) {
    c.assignments.push_back({assigned.str(i, 0), assigned.str(i, 1)});
  }
  return c;
}

std::optional<std::string> find_document_by_sha256(transaction& tx, std::string_view sha256) {
  const auto r = tx.exec(
      "SELECT id FROM documents WHERE content_sha256 = $1 ORDER BY created_at LIMIT 1", {sha256});
  if (r.empty()) return std::nullopt;
  return r.str(0, 0);
}

std::string insert_document(transaction& tx, std::string_view tenant_id, const new_document& doc,
                            const std::vector<new_chunk>& chunks) {
  const auto id = tx.exec(R"sql(
      INSERT INTO documents (tenant_id, title, source_uri, mime_type, content_sha256, byte_size,
                             chunk_count, status)
      VALUES ($1::uuid, $2, $3, $4, $5, $6, $7, 'ready') RETURNING id)sql",
                          {tenant_id, doc.title, doc.source_uri, doc.mime_type, doc.content_sha256,
                           doc.byte_size, static_cast<std::int64_t>(chunks.size())})
                      .str(0, 0);
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    const auto& c = chunks[i];
    const auto bytes = encode_embedding(c.embedding);
    tx.exec(
        R"sql(
        INSERT INTO chunks (tenant_id, document_id, ordinal, content, token_count, embedding,
                            embedding_model)
        VALUES ($1::uuid, $2::uuid, $3, $4, $5, $6, $7))sql",
        {tenant_id, id, static_cast<std::int64_t>(i), c.content, c.token_count,
         param::bytea(std::as_bytes(std::span(bytes.data(), bytes.size()))), c.embedding_model});
  }
  return id;
}

bool assign_document(transaction& tx, std::string_view tenant_id, std::string_view agent_id,
                     std::string_view document_id) {
  const auto r = tx.exec(R"sql(
      INSERT INTO agent_documents (tenant_id, agent_id, document_id, enabled)
      VALUES ($1::uuid, $2::uuid, $3::uuid, true)
      ON CONFLICT (agent_id, document_id) DO UPDATE SET enabled = true
        WHERE NOT agent_documents.enabled)sql",
                         {tenant_id, agent_id, document_id});
  return r.affected() > 0;
}

std::string encode_embedding(std::span<const float> v) {
  std::string out(v.size() * 4, '\0');
  for (std::size_t i = 0; i < v.size(); ++i) {
    const auto bits = std::bit_cast<std::uint32_t>(v[i]);
    for (int b = 0; b < 4; ++b) out[i * 4 + b] = static_cast<char>((bits >> (8 * b)) & 0xFF);
  }
  return out;
}

std::vector<float> decode_embedding(std::string_view bytes) {
  if (bytes.size() % 4 != 0) throw db_error("embedding length is not a multiple of 4 bytes", "");
  std::vector<float> out(bytes.size() / 4);
  for (std::size_t i = 0; i < out.size(); ++i) {
    std::uint32_t bits = 0;
    for (int b = 0; b < 4; ++b) {
      bits |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i * 4 + b])) << (8 * b);
    }
    out[i] = std::bit_cast<float>(bits);
  }
  return out;
}

}  // namespace parley::store
