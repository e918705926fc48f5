#include "knowledge/registration.hpp"

#include "base/clock.hpp"
#include "store/agent_repo.hpp"
#include "store/db.hpp"

namespace parley::knowledge {

namespace {

std::vector<std::string> agent_ids(store::transaction& tx, const std::vector<std::string>& codes) {
  std::vector<std::string> ids;
  for (const auto& code : codes) {
    const auto a = store::find_agent(tx, code);
    if (!a) {
      throw upload_error(upload_error::kind::agent_not_found, "agent_not_found",
                         "No agent '" + code + "'.");
    }
    ids.push_back(a->id);
  }
  return ids;
}

std::string title_of(const upload& u, const inspected_upload& inspected) {
  if (u.title) return *u.title;
  if (!inspected.file_name.empty()) return inspected.file_name;
  return "Untitled document";
}

}  // namespace

chunking chunking_for(const store::knowledge_settings& s, const chunking& defaults) {
  chunking c{s.chunk_tokens.value_or(defaults.chunk_tokens),
             s.chunk_overlap.value_or(defaults.chunk_overlap)};
  if (c.chunk_overlap >= c.chunk_tokens) c.chunk_overlap = c.chunk_tokens / 10;
  return c;
}

bool processing_lost(const store::document_row& d, std::chrono::seconds processing_timeout) {
  return d.status == "processing" &&
         base::unix_seconds() - d.created_unix > processing_timeout.count();
}

registration register_upload(store::transaction& tx, std::string_view tenant_id, const upload& u,
                             const inspected_upload& inspected,
                             std::chrono::seconds processing_timeout, const chunking& defaults) {
  const auto agents = agent_ids(tx, u.agents);
  auto existing = store::find_document_by_sha256(tx, inspected.sha256);
  if (existing &&
      (existing->status == "failed" || processing_lost(*existing, processing_timeout))) {
    store::delete_document(tx, existing->id);
    existing.reset();
  }
  std::string id;
  bool duplicate = existing.has_value();
  if (existing) {
    id = existing->id;
  } else {
    const store::new_document doc{title_of(u, inspected),
                                  u.source_uri.value_or(inspected.file_name), inspected.mime_type,
                                  inspected.sha256, static_cast<std::int64_t>(u.bytes.size())};
    if (auto inserted = store::insert_processing_document(tx, tenant_id, doc)) {
      id = std::move(*inserted);
    } else {
      // A concurrent upload of the same content committed first: it is the document.
      id = store::find_document_by_sha256(tx, inspected.sha256).value().id;
      duplicate = true;
    }
  }
  for (const auto& agent_id : agents) store::assign_document(tx, tenant_id, agent_id, id);
  auto settings = store::read_knowledge_settings(tx, tenant_id);
  return {store::find_document(tx, id).value(), duplicate, chunking_for(settings, defaults),
          std::move(settings.embedder)};
}

}  // namespace parley::knowledge
