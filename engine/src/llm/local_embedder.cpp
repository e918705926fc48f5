#include "llm/local_embedder.hpp"

namespace parley::llm {

asio::awaitable<embedding_vectors> local_embedder::embed(std::vector<std::string> texts,
                                                         embedding_purpose purpose) {
  co_return embed_blocking(std::move(texts), purpose);
}

embedding_vectors local_embedder::embed_blocking(std::vector<std::string> texts,
                                                 embedding_purpose /*purpose*/) {
  embedding_vectors out;
  out.reserve(texts.size());
  for (const auto& t : texts) out.push_back(hashing_.embed(t));
  return out;
}

}  // namespace parley::llm
