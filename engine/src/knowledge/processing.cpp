#include "knowledge/processing.hpp"

#include <exception>

#include "obs/log.hpp"
#include "rag/chunker.hpp"
#include "store/db.hpp"
#include "store/document_repo.hpp"
#include "store/knowledge_settings.hpp"

namespace parley::knowledge {

namespace {

// A reindex switching the tenant's embedder while a document is embedded makes it
// embed again with the new one; more than this many switches in a row is a fault.
constexpr int max_embedder_switches = 3;

struct extracted_chunks {
  std::vector<rag::section_chunk> chunks;
  std::optional<std::string> title;
};

extracted_chunks extract_chunks(const processing_job& job) {
  const auto doc = rag::extract(job.bytes, job.declared_type, job.file_name);
  const auto& sizes = job.chunks;
  extracted_chunks out{rag::chunk_sections(doc.sections, sizes.chunk_tokens, sizes.chunk_overlap),
                       std::nullopt};
  if (out.chunks.empty()) throw rag::extract_error("the document contains no text");
  if (job.title_from_content && !doc.title.empty()) out.title = doc.title;
  return out;
}

std::vector<store::new_chunk> embed_chunks(const std::vector<rag::section_chunk>& chunks,
                                           llm::embedder& embedder) {
  std::vector<std::string> texts;
  texts.reserve(chunks.size());
  for (const auto& c : chunks) texts.push_back(embedding_text(c.heading, c.content));
  auto vectors = embedder.embed_blocking(std::move(texts), llm::embedding_purpose::document);
  std::vector<store::new_chunk> out;
  out.reserve(chunks.size());
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    const auto& c = chunks[i];
    out.push_back({c.content, static_cast<std::int64_t>(c.token_count), std::move(vectors[i]),
                   embedder.model(), c.heading, c.page});
  }
  return out;
}

}  // namespace

std::string embedding_text(const std::string& heading, const std::string& content) {
  return heading.empty() ? content : heading + "\n" + content;
}

processor::processor(store::database& db, llm::embedders& embedders)
    : db_(db), embedders_(embedders) {}

processing_result processor::process(const processing_job& job) const {
  processing_result result{"failed", 0, {}};
  const auto fail = [&](const std::string& reason) {
    result.error = reason;
    const bool stored = db_.with_tenant(job.tenant_id, [&](store::transaction& tx) {
      return store::fail_document(tx, job.document_id, reason);
    });
    if (!stored) result.status = "gone";
  };
  auto chosen = job.embedder;  // the tenant's embedder, as far as we know
  try {
    const auto extracted = extract_chunks(job);
    for (int attempt = 0;; ++attempt) {
      auto& embedder = embedders_.get(chosen.value_or(embedders_.default_name()));
      const auto chunks = embed_chunks(extracted.chunks, embedder);
      const auto done = db_.with_tenant(job.tenant_id, [&](store::transaction& tx) {
        return store::complete_document(tx, job.tenant_id, job.document_id, chunks, extracted.title,
                                        chosen);
      });
      if (done == store::completion::stored) {
        result = {"ready", chunks.size(), {}};
      } else if (done == store::completion::gone) {
        result.status = "gone";
      } else if (attempt + 1 < max_embedder_switches) {
        chosen = db_.with_tenant(job.tenant_id, [&](store::transaction& tx) {
          return store::read_knowledge_settings(tx, job.tenant_id).embedder;
        });
        continue;
      } else {
        throw std::runtime_error("the tenant's embedder kept changing while it was processed");
      }
      break;
    }
  } catch (const rag::extract_error& e) {
    fail(e.what());
  } catch (const llm::embedding_error& e) {
    obs::warn("document_embedding_failed", {{"tenant_id", job.tenant_id},
                                            {"document_id", job.document_id},
                                            {"error", e.what()},
                                            {"detail", e.detail()}});
    fail(std::string("the document could not be embedded: ") + e.what());
  } catch (const std::exception& e) {
    // A parser library failing is the server's fault, not the document's: the
    // tenant reads that it may try again, the operator reads why.
    obs::error(
        "document_processing_failed",
        {{"tenant_id", job.tenant_id}, {"document_id", job.document_id}, {"error", e.what()}});
    fail("the document could not be processed (a server error); try again later");
  }
  obs::info("document_processed", {{"tenant_id", job.tenant_id},
                                   {"document_id", job.document_id},
                                   {"status", result.status},
                                   {"chunks", result.chunks},
                                   {"error", result.error}});
  return result;
}

}  // namespace parley::knowledge
