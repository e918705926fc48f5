#pragma once

// What turns text into the vectors retrieval compares: the built-in hashing
// embedder (llm/local_embedder.hpp) or any OpenAI-compatible /embeddings endpoint
// (llm/openai_embedder.hpp). Every vector a chunk is stored with names the model
// that made it, and a query is only ever compared with chunks of its own model.
//
// NO FALLBACK: an embedder that cannot embed throws embedding_error; the query or
// the ingest fails with it, and nothing switches to lexical-only search.

#include <utility>  // before Asio under g++ 12 / Boost 1.74

#include <boost/asio/awaitable.hpp>

#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

namespace parley::llm {

namespace asio = boost::asio;

// Some models embed questions and passages differently (E5's "query: " and
// "passage: ", nomic's "search_query: " and "search_document: ").
enum class embedding_purpose : unsigned char { query, document };

using embedding_vectors = std::vector<std::vector<float>>;

// what() is safe to show a tenant (which provider step failed, in plain words);
// detail() is for the operator's log and may quote what the provider answered.
class embedding_error : public std::runtime_error {
 public:
  embedding_error(const std::string& message, std::string detail)
      : std::runtime_error(message), detail_(std::move(detail)) {}
  const std::string& detail() const noexcept { return detail_; }

 private:
  std::string detail_;
};

class embedder {
 public:
  virtual ~embedder() = default;

  // Stored with every chunk this embedder embeds.
  virtual const std::string& model() const noexcept = 0;
  virtual std::size_t dimensions() const noexcept = 0;

  // One unit vector (or all zeros for text without content) per text, in order.
  // Await it on a loop thread.
  virtual asio::awaitable<embedding_vectors> embed(std::vector<std::string> texts,
                                                   embedding_purpose purpose) = 0;

  // The same for a thread that may block (the extraction thread, a CLI command),
  // while the loop the embedder's transfers run on is run by another thread.
  virtual embedding_vectors embed_blocking(std::vector<std::string> texts,
                                           embedding_purpose purpose) = 0;
};

}  // namespace parley::llm
