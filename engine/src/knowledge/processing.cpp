#include "knowledge/processing.hpp"

#include <exception>

#include "obs/log.hpp"
#include "rag/chunker.hpp"
#include "store/db.hpp"
#include "store/document_repo.hpp"

namespace parley::knowledge {

namespace {

// A chunk is embedded with its section's heading, so that a passage under
// "Refunds" matches a question about refunds even when its own words do not say so.
std::string embedding_text(const rag::section_chunk& c) {
  return c.heading.empty() ? c.content : c.heading + "\n" + c.content;
}

}  // namespace

processor::processor(store::database& db, rag::hashing_embedder embedder)
    : db_(db), embedder_(std::move(embedder)) {}

processing_result processor::process(const processing_job& job) const {
  processing_result result{"failed", 0, {}};
  std::vector<store::new_chunk> chunks;
  std::optional<std::string> title;
  try {
    const auto doc = rag::extract(job.bytes, job.declared_type, job.file_name);
    const auto& sizes = job.chunks;
    for (auto& c : rag::chunk_sections(doc.sections, sizes.chunk_tokens, sizes.chunk_overlap)) {
      auto embedding = embedder_.embed(embedding_text(c));
      chunks.push_back({std::move(c.content), static_cast<std::int64_t>(c.token_count),
                        std::move(embedding), embedder_.model(), std::move(c.heading), c.page});
    }
    if (chunks.empty()) throw rag::extract_error("the document contains no text");
    if (job.title_from_content && !doc.title.empty()) title = doc.title;
  } catch (const rag::extract_error& e) {
    result.error = e.what();
  } catch (const std::exception& e) {
    // A parser library failing is the server's fault, not the document's: the
    // tenant reads that it may try again, the operator reads why.
    obs::error(
        "document_extraction_failed",
        {{"tenant_id", job.tenant_id}, {"document_id", job.document_id}, {"error", e.what()}});
    result.error = "the document could not be processed (a server error); try again later";
  }

  const bool stored = db_.with_tenant(job.tenant_id, [&](store::transaction& tx) {
    if (!result.error.empty()) return store::fail_document(tx, job.document_id, result.error);
    return store::complete_document(tx, job.tenant_id, job.document_id, chunks, title);
  });
  if (!stored) {
    result.status = "gone";
  } else if (result.error.empty()) {
    result.status = "ready";
    result.chunks = chunks.size();
  }
  obs::info("document_processed", {{"tenant_id", job.tenant_id},
                                   {"document_id", job.document_id},
                                   {"status", result.status},
                                   {"chunks", result.chunks},
                                   {"error", result.error}});
  return result;
}

}  // namespace parley::knowledge
