#include "chat/providers.hpp"

#include <chrono>

#include "llm/anthropic_provider.hpp"
#include "llm/curl_multi.hpp"
#include "llm/extractive_provider.hpp"
#include "llm/openai_provider.hpp"

namespace parley::chat {
namespace {

llm::upstream_settings upstream_of(const config::llm_config& llm, const config::provider_config& p,
                                   std::string api_key) {
  return {p.base_url,
          std::move(api_key),
          std::chrono::milliseconds(llm.connect_timeout_ms),
          std::chrono::milliseconds(llm.first_token_timeout_ms),
          std::chrono::milliseconds(llm.idle_timeout_ms),
          p.ca_file};
}

}  // namespace

providers::providers(asio::io_context& io, const config::llm_config& llm,
                     const config::secrets& secrets)
    : default_name_(llm.provider) {
  for (const auto& [name, p] : config::providers_of(llm)) {
    configured_provider entry;
    entry.name = name;
    const auto key = secrets.provider_api_keys.find(name);
    entry.has_operator_key = key != secrets.provider_api_keys.end();
    auto upstream = upstream_of(llm, p, entry.has_operator_key ? key->second : "");
    if (p.kind == "extractive") {
      entry.model = "extractive";
      entry.impl = std::make_unique<llm::extractive_provider>();
    } else {
      if (!multi_) multi_ = std::make_unique<llm::curl_multi>(io);
      entry.calls_out = true;
      entry.model = p.model;
      if (p.kind == "anthropic") {
        entry.needs_key = true;
        entry.impl = std::make_unique<llm::anthropic_provider>(
            *multi_,
            llm::anthropic_settings{std::move(upstream), llm.anthropic_version, llm.max_tokens});
      } else {
        entry.impl = std::make_unique<llm::openai_provider>(*multi_, std::move(upstream));
      }
    }
    by_name_.emplace(name, std::move(entry));
  }
}

providers::~providers() = default;

const configured_provider* providers::find(std::string_view name) const {
  const auto it = by_name_.find(name.empty() ? std::string_view(default_name_) : name);
  return it == by_name_.end() ? nullptr : &it->second;
}

}  // namespace parley::chat
