#pragma once

// A tenant's documents through their life: registered as 'processing' when an
// upload is accepted, completed with their chunks ('ready') or failed with a reason,
// listed, assigned to agents and deleted. Per-tenant tables: call inside a tenant
// transaction. Every change an index would see bumps the tenant's knowledge
// version in the same transaction (store/knowledge_repo.hpp), which notifies every
// engine.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace parley::store {

class transaction;

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
  std::string heading;  // the section's heading path; empty when none
  int page = 0;         // 1-based PDF page; 0 when the format has none
};

struct document_row {
  std::string id;
  std::string title;
  std::string source_uri;
  std::string mime_type;
  std::string content_sha256;
  std::int64_t byte_size = 0;
  std::string status;  // processing | ready | failed
  std::int64_t chunk_count = 0;
  std::optional<std::string> error;  // why it failed
  std::vector<std::string> agents;   // codes of the agents it is enabled for
  std::int64_t created_unix = 0;
};

struct document_filter {
  std::optional<std::string> agent_id;
  std::optional<std::string> status;
  std::optional<std::string> after_id;  // the last id of the previous page
  int limit = 20;
};

struct document_page {
  std::vector<document_row> documents;  // newest first
  bool has_more = false;
};

// `id` must be a lowercase UUID (edge::is_lower_uuid): callers refuse others first.
std::optional<document_row> find_document(transaction& tx, std::string_view id);
std::optional<document_row> find_document_by_sha256(transaction& tx, std::string_view sha256);
document_page list_documents(transaction& tx, const document_filter& filter);

// Registers a document as 'processing'; nothing when the tenant already has one with
// this content (a concurrent upload won): read that one instead.
std::optional<std::string> insert_processing_document(transaction& tx, std::string_view tenant_id,
                                                      const new_document& doc);

enum class completion : unsigned char {
  stored,
  gone,              // deleted meanwhile, or no longer processing
  embedder_changed,  // `parley reindex` switched the tenant's embedder meanwhile
};

// Stores the chunks of a 'processing' document and makes it 'ready', with `title`
// when the upload named none and the content did, provided the tenant's embedder
// (tenants.settings.embedder, nullopt: none chosen) is still `embedder`, the one
// the chunks were embedded by. Otherwise nothing is stored.
completion complete_document(transaction& tx, std::string_view tenant_id,
                             std::string_view document_id, const std::vector<new_chunk>& chunks,
                             const std::optional<std::string>& title,
                             const std::optional<std::string>& embedder);

// Marks a 'processing' document 'failed' with `reason`; false when it is gone.
bool fail_document(transaction& tx, std::string_view document_id, std::string_view reason);

// Deletes the document with its chunks and assignments. Its status before, or
// nothing when the tenant has no such document.
std::optional<std::string> delete_document(transaction& tx, std::string_view document_id);

// Enables or removes `document_id` for `agent_id`; returns whether anything changed.
bool assign_document(transaction& tx, std::string_view tenant_id, std::string_view agent_id,
                     std::string_view document_id);
bool unassign_document(transaction& tx, std::string_view agent_id, std::string_view document_id);

}  // namespace parley::store
