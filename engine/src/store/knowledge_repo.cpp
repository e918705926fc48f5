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
                  "coalesce(c.embedding_model, ''), c.embedding, c.heading, coalesce(c.page, 0) "
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
                        chunks.str(i, 3), chunks.str(i, 4), decode_embedding(chunks.bytea(i, 5)),
                        chunks.str(i, 6), static_cast<int>(chunks.i64(i, 7))});
  }
  const auto& assigned = rows.assignments;
  c.assignments.reserve(assigned.rows());
  for (int i = 0; i < assigned.rows(); ++i) {
    c.assignments.push_back({assigned.str(i, 0), assigned.str(i, 1)});
  }
  return c;
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
