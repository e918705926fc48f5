#pragma once

// The LLM providers agents may name (config llm.providers and the default), each
// built once with the operator's key for it, if any. A call uses the provider its
// agent names, else the default; the key is the tenant's own credential when it
// stored one (chat/tenant_states.hpp), else the operator's.

#include <utility>  // before Asio under g++ 12 / Boost 1.74

#include <boost/asio/io_context.hpp>

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "llm/provider.hpp"

namespace parley::llm {
class curl_multi;
}

namespace parley::chat {

namespace asio = boost::asio;

struct configured_provider {
  std::string name;        // what agents and credentials name; stored in llm_requests.provider
  std::string model;       // for agents that name none
  bool calls_out = false;  // false: the extractive provider, which needs no key or model
  bool has_operator_key = false;  // the operator configured a key for it
  bool needs_key = false;         // its API refuses calls without one (anthropic)
  std::unique_ptr<llm::provider> impl;
};

class providers {
 public:
  // Calls out on a curl multi driven by `io`; destroy before `io`.
  providers(asio::io_context& io, const config::llm_config& llm, const config::secrets& secrets);
  ~providers();
  providers(const providers&) = delete;
  providers& operator=(const providers&) = delete;

  // The provider `name`, or the default when `name` is empty; nullptr when none is
  // configured under that name.
  const configured_provider* find(std::string_view name) const;

 private:
  std::unique_ptr<llm::curl_multi> multi_;  // only when a provider calls out
  std::map<std::string, configured_provider, std::less<>> by_name_;
  std::string default_name_;
};

}  // namespace parley::chat
