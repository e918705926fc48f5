#include "llm/embedders.hpp"

#include "llm/local_embedder.hpp"

namespace parley::llm {

embedders::embedders(asio::io_context& io, std::size_t hashing_dimensions, std::string default_name)
    : io_(io), default_name_(std::move(default_name)) {
  by_name_.emplace("hashing", std::make_unique<local_embedder>(hashing_dimensions));
}

void embedders::add(std::string name, openai_embedder_settings settings) {
  if (!multi_) multi_ = std::make_unique<curl_multi>(io_);
  by_name_.insert_or_assign(std::move(name),
                            std::make_unique<openai_embedder>(*multi_, std::move(settings)));
}

embedder& embedders::get(std::string_view name) const {
  const auto found = by_name_.find(name);
  if (found == by_name_.end()) {
    throw embedding_error(
        "the knowledge base's embedder is not available on this server",
        "no embedder named '" + std::string(name) + "' is configured (retrieval.embedders)");
  }
  return *found->second;
}

}  // namespace parley::llm
