#include "store/document_repo.hpp"

#include "store/db.hpp"
#include "store/knowledge_repo.hpp"

namespace parley::store {

namespace {

constexpr std::string_view document_columns = R"sql(
    d.id, d.title, coalesce(d.source_uri, '') AS source_uri, d.mime_type, d.content_sha256,
    d.byte_size, d.status, d.chunk_count, d.error,
    ARRAY(SELECT a.code FROM agent_documents ad JOIN agents a ON a.id = ad.agent_id
          WHERE ad.document_id = d.id AND ad.enabled ORDER BY a.code) AS agents,
    extract(epoch FROM d.created_at)::bigint AS created_unix)sql";

document_row read_document(const result& r, int row) {
  return {r.str(row, "id"),
          r.str(row, "title"),
          r.str(row, "source_uri"),
          r.str(row, "mime_type"),
          r.str(row, "content_sha256"),
          r.i64(row, "byte_size"),
          r.str(row, "status"),
          r.i64(row, "chunk_count"),
          r.opt_str(row, "error"),
          r.text_array(row, r.column("agents")),
          r.i64(row, "created_unix")};
}

std::optional<document_row> first_document(const result& r) {
  if (r.empty()) return std::nullopt;
  return read_document(r, 0);
}

// An assignment changes what an index holds only for a ready document.
void bump_if_ready(transaction& tx, std::string_view tenant_id, std::string_view document_id) {
  tx.exec(R"sql(
      UPDATE tenants SET knowledge_version = knowledge_version + 1, updated_at = now()
      WHERE id = $1::uuid
        AND EXISTS (SELECT 1 FROM documents WHERE id = $2::uuid AND status = 'ready'))sql",
          {tenant_id, document_id});
}

}  // namespace

std::optional<document_row> find_document(transaction& tx, std::string_view id) {
  return first_document(tx.exec(
      "SELECT " + std::string(document_columns) + " FROM documents d WHERE d.id = $1::uuid", {id}));
}

std::optional<document_row> find_document_by_sha256(transaction& tx, std::string_view sha256) {
  return first_document(
      tx.exec("SELECT " + std::string(document_columns) +
                  " FROM documents d WHERE d.content_sha256 = $1 ORDER BY d.created_at LIMIT 1",
              {sha256}));
}

document_page list_documents(transaction& tx, const document_filter& filter) {
  // One row more than the page says whether another page follows.
  const auto r = tx.exec("SELECT " + std::string(document_columns) + R"sql(
      FROM documents d
      WHERE ($1::uuid IS NULL OR EXISTS (SELECT 1 FROM agent_documents ad
                                         WHERE ad.document_id = d.id AND ad.agent_id = $1::uuid
                                           AND ad.enabled))
        AND ($2::text IS NULL OR d.status = $2)
        AND ($3::uuid IS NULL OR (d.created_at, d.id) <
                                 (SELECT created_at, id FROM documents WHERE id = $3::uuid))
      ORDER BY d.created_at DESC, d.id DESC
      LIMIT $4)sql",
                         {filter.agent_id, filter.status, filter.after_id, filter.limit + 1});
  document_page page;
  const int rows = std::min(r.rows(), filter.limit);
  page.documents.reserve(rows);
  for (int i = 0; i < rows; ++i) page.documents.push_back(read_document(r, i));
  page.has_more = r.rows() > filter.limit;
  return page;
}

std::optional<std::string> insert_processing_document(transaction& tx, std::string_view tenant_id,
                                                      const new_document& doc) {
  const auto r = tx.exec(
      R"sql(
      INSERT INTO documents (tenant_id, title, source_uri, mime_type, content_sha256, byte_size,
                             status)
      VALUES ($1::uuid, $2, NULLIF($3, ''), $4, $5, $6, 'processing')
      ON CONFLICT (tenant_id, content_sha256) DO NOTHING
      RETURNING id)sql",
      {tenant_id, doc.title, doc.source_uri, doc.mime_type, doc.content_sha256, doc.byte_size});
  if (r.empty()) return std::nullopt;
  return r.str(0, 0);
}

completion complete_document(transaction& tx, std::string_view tenant_id,
                             std::string_view document_id, const std::vector<new_chunk>& chunks,
                             const std::optional<std::string>& title,
                             const std::optional<std::string>& embedder) {
  // The tenant's row first: a reindex switching the embedder holds it too, so it
  // either sees these chunks or has switched before we look.
  const auto tenant = tx.exec(
      "UPDATE tenants SET knowledge_version = knowledge_version + 1, updated_at = now() "
      "WHERE id = $1::uuid RETURNING settings->>'embedder'",
      {tenant_id});
  if (tenant.empty() || tenant.opt_str(0, 0) != embedder) return completion::embedder_changed;
  // The row lock keeps a concurrent delete from slipping between check and insert.
  const auto found =
      tx.exec("SELECT 1 FROM documents WHERE id = $1::uuid AND status = 'processing' FOR UPDATE",
              {document_id});
  if (found.empty()) return completion::gone;
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    const auto& c = chunks[i];
    const auto bytes = encode_embedding(c.embedding);
    tx.exec(R"sql(
        INSERT INTO chunks (tenant_id, document_id, ordinal, content, token_count, embedding,
                            embedding_model, heading, page)
        VALUES ($1::uuid, $2::uuid, $3, $4, $5, $6, $7, $8, NULLIF($9, 0)))sql",
            {tenant_id, document_id, static_cast<std::int64_t>(i), c.content, c.token_count,
             param::bytea(std::as_bytes(std::span(bytes.data(), bytes.size()))), c.embedding_model,
             c.heading, c.page});
  }
  tx.exec(R"sql(
      UPDATE documents SET status = 'ready', chunk_count = $2, title = coalesce($3, title),
                           error = NULL, updated_at = now()
      WHERE id = $1::uuid)sql",
          {document_id, static_cast<std::int64_t>(chunks.size()), title});
  return completion::stored;
}

bool fail_document(transaction& tx, std::string_view document_id, std::string_view reason) {
  const auto r = tx.exec(R"sql(
      UPDATE documents SET status = 'failed', error = $2, updated_at = now()
      WHERE id = $1::uuid AND status = 'processing')sql",
                         {document_id, reason});
  return r.affected() > 0;
}

std::optional<std::string> delete_document(transaction& tx, std::string_view document_id) {
  const auto r = tx.exec(
      "DELETE FROM documents WHERE id = $1::uuid RETURNING status, tenant_id::text", {document_id});
  if (r.empty()) return std::nullopt;
  // Only a ready document was in any index.
  if (r.text(0, 0) == "ready") bump_knowledge_version(tx, r.text(0, 1));
  return r.str(0, 0);
}

bool assign_document(transaction& tx, std::string_view tenant_id, std::string_view agent_id,
                     std::string_view document_id) {
  const auto r = tx.exec(R"sql(
      INSERT INTO agent_documents (tenant_id, agent_id, document_id, enabled)
      VALUES ($1::uuid, $2::uuid, $3::uuid, true)
      ON CONFLICT (agent_id, document_id) DO UPDATE SET enabled = true
        WHERE NOT agent_documents.enabled)sql",
                         {tenant_id, agent_id, document_id});
  if (r.affected() == 0) return false;
  bump_if_ready(tx, tenant_id, document_id);
  return true;
}

bool unassign_document(transaction& tx, std::string_view agent_id, std::string_view document_id) {
  const auto r = tx.exec(
      "DELETE FROM agent_documents WHERE agent_id = $1::uuid AND document_id = $2::uuid "
      "RETURNING tenant_id::text",
      {agent_id, document_id});
  if (r.empty()) return false;
  bump_if_ready(tx, r.text(0, 0), document_id);
  return true;
}

}  // namespace parley::store
