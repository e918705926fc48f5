#pragma once

// Turning a registered document into searchable chunks: extract its text by
// section (rag/extract.hpp), cut each section into chunks, embed every chunk with
// its heading by the tenant's embedder, then store the chunks and mark the document
// 'ready' in one tenant transaction (which bumps the knowledge version and so
// notifies every engine). A document that cannot be extracted or embedded is marked
// 'failed' with the reason.
//
// Blocking work: run it on the extraction thread (knowledge/extraction_queue.hpp),
// never on a loop thread. PDF extraction is not safe for concurrent use, so there
// is one such thread per process; a remote embedder's requests run on the loop
// while this thread waits for them.

#include <cstddef>
#include <optional>
#include <string>

#include "llm/embedders.hpp"
#include "rag/extract.hpp"

namespace parley::store {
class database;
}

namespace parley::knowledge {

struct chunking {
  std::size_t chunk_tokens = 500;
  std::size_t chunk_overlap = 50;
};

struct processing_job {
  std::string tenant_id;
  std::string document_id;
  std::string bytes;
  std::string declared_type;
  std::string file_name;
  bool title_from_content = false;      // the upload named no title
  chunking chunks;                      // the tenant's, read when the upload was registered
  std::optional<std::string> embedder;  // the same; nullopt: the configured default
};

// What processing ended with, for the caller's report.
struct processing_result {
  std::string status;  // ready | failed | gone (deleted while it was processed)
  std::size_t chunks = 0;
  std::string error;
};

// What a chunk is embedded as: its section's heading with its text, so that a
// passage under "Refunds" matches a question about refunds even when its own words
// do not say so. `parley reindex` embeds stored chunks the same way.
std::string embedding_text(const std::string& heading, const std::string& content);

class processor {
 public:
  processor(store::database& db, llm::embedders& embedders);

  processing_result process(const processing_job& job) const;

 private:
  store::database& db_;
  llm::embedders& embedders_;
};

}  // namespace parley::knowledge
