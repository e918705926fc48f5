#pragma once

// The embedders an engine can use, by the names tenants choose them by: "hashing"
// (built in) and each OpenAI-compatible endpoint the operator configured. The
// registry owns them and the curl multi their requests run on.

#include <utility>  // before Asio under g++ 12 / Boost 1.74

#include <boost/asio/io_context.hpp>

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "llm/curl_multi.hpp"
#include "llm/embedder.hpp"
#include "llm/openai_embedder.hpp"

namespace parley::llm {

class embedders {
 public:
  // `io` runs the requests of OpenAI-compatible embedders.
  embedders(asio::io_context& io, std::size_t hashing_dimensions, std::string default_name);

  void add(std::string name, openai_embedder_settings settings);

  // Throws embedding_error when no embedder has that name: a tenant whose embedder
  // was removed from the configuration gets an error, not another model.
  embedder& get(std::string_view name) const;
  bool has(std::string_view name) const { return by_name_.contains(name); }

  // Tenants that never chose one use this.
  const std::string& default_name() const noexcept { return default_name_; }

 private:
  asio::io_context& io_;
  std::unique_ptr<curl_multi> multi_;  // made with the first OpenAI-compatible embedder
  std::map<std::string, std::unique_ptr<embedder>, std::less<>> by_name_;
  std::string default_name_;
};

}  // namespace parley::llm
