#pragma once

// Registering an accepted upload, in the caller's tenant transaction: the agents
// it names must exist; content the tenant already has is not stored twice (the
// existing document is answered, and the agents named are added to it); otherwise a
// new document is registered as 'processing' for the extraction queue. A failed
// document, or one whose processing was lost with an engine that stopped, is
// replaced by the new upload of the same content.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "knowledge/processing.hpp"
#include "knowledge/upload.hpp"
#include "store/document_repo.hpp"
#include "store/knowledge_settings.hpp"

namespace parley::store {
class transaction;
}

namespace parley::knowledge {

struct registration {
  store::document_row document;
  bool duplicate = false;               // already stored: nothing to process
  chunking chunks;                      // how to cut it: the tenant's settings over `defaults`
  std::optional<std::string> embedder;  // the tenant's; nullopt: the configured default
};

// Throws upload_error (agent_not_found) before anything is written.
registration register_upload(store::transaction& tx, std::string_view tenant_id, const upload& u,
                             const inspected_upload& inspected,
                             std::chrono::seconds processing_timeout, const chunking& defaults);

// The tenant's chunk size and overlap (store/knowledge_settings.hpp) over `defaults`;
// an overlap that does not fit the size is cut to a tenth of it.
chunking chunking_for(const store::knowledge_settings& s, const chunking& defaults);

// A document still 'processing' this long after it was registered was lost (its
// engine stopped): it reads as failed, and a new upload replaces it.
bool processing_lost(const store::document_row& d, std::chrono::seconds processing_timeout);

}  // namespace parley::knowledge
