#pragma once

// The built-in hashing embedder (rag/hashing_embedder.hpp) behind the embedder
// interface: no model file, no I/O, computed on the caller's thread in microseconds
// per text, so embed() never suspends.

#include "llm/embedder.hpp"
#include "rag/hashing_embedder.hpp"

namespace parley::llm {

class local_embedder final : public embedder {
 public:
  explicit local_embedder(std::size_t dimensions) : hashing_(dimensions) {}

  const std::string& model() const noexcept override { return hashing_.model(); }
  std::size_t dimensions() const noexcept override { return hashing_.dimensions(); }

  asio::awaitable<embedding_vectors> embed(std::vector<std::string> texts,
                                           embedding_purpose purpose) override;
  embedding_vectors embed_blocking(std::vector<std::string> texts,
                                   embedding_purpose purpose) override;

 private:
  rag::hashing_embedder hashing_;
};

}  // namespace parley::llm
