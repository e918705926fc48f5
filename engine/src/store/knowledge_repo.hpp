#pragma once

// A tenant's knowledge as the indexes read it: the ready documents, their chunks
// with embeddings (bytea, float32 little-endian) and the agent assignments, plus
// the tenant's knowledge_version that every change bumps (store/document_repo.hpp)
// so that every engine's in-memory index notices (rag/index_cache.hpp). Per-tenant
// tables: call inside a tenant transaction.

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

// The stored form of an embedding: float32 little-endian, whatever the host order.
std::string encode_embedding(std::span<const float> v);
// Throws db_error if the byte length is not a multiple of 4.
std::vector<float> decode_embedding(std::string_view bytes);

}  // namespace parley::store
