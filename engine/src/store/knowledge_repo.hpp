#pragma once

// A tenant's knowledge in PostgreSQL: documents, their chunks with embeddings
// (bytea, float32 little-endian) and agent assignments, plus the tenant's
// knowledge_version that every change bumps so that every engine's in-memory
// index notices (rag/index_cache.hpp). Per-tenant tables: call inside a tenant
// transaction.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "rag/knowledge_index.hpp"
#include "store/db.hpp"

namespace parley::store {

class transaction;

std::int64_t knowledge_version(transaction& tx, std::string_view tenant_id);
void bump_knowledge_version(transaction& tx, std::string_view tenant_id);

// Every document, chunk and enabled assignment of the transaction's tenant, as
// PostgreSQL sent them. Decoding them (decode_corpus) takes a while for a large
// tenant: do it after the transaction, so that no connection idles in one.
struct corpus_rows {
  result documents;
  result chunks;
  result assignments;
};

corpus_rows read_corpus(transaction& tx);
rag::corpus decode_corpus(const corpus_rows& rows);

struct new_document {
  std::string title;
  std::string source_uri;
  std::string mime_type;
  std::string content_sha256;  // lowercase hex of the original bytes
  std::int64_t byte_size = 0;
};

struct new_chunk {
  std::string content;
  std::int64_t token_count = 0;
  std::vector<float> embedding;
  std::string embedding_model;
};

// The id of the tenant's document with this content hash, if any.
std::optional<std::string> find_document_by_sha256(transaction& tx, std::string_view sha256);

// Inserts a document and its chunks (ordinals in order); returns the document id.
std::string insert_document(transaction& tx, std::string_view tenant_id, const new_document& doc,
                            const std::vector<new_chunk>& chunks);

// Enables `document_id` for `agent_id`; returns false if it already was.
bool assign_document(transaction& tx, std::string_view tenant_id, std::string_view agent_id,
                     std::string_view document_id);

// The stored form of an embedding: float32 little-endian, whatever the host order.
std::string encode_embedding(std::span<const float> v);
// Throws db_error if the byte length is not a multiple of 4.
std::vector<float> decode_embedding(std::string_view bytes);

}  // namespace parley::store
