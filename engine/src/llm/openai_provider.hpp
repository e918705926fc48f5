#pragma once

// Any OpenAI-compatible /chat/completions endpoint (OpenAI, OpenRouter, vLLM,
// Ollama, llama.cpp server), always streamed and always asked for usage
// (stream_options.include_usage), over libcurl's multi interface on the engine's
// event loop (llm/curl_multi.hpp).
//
// Between curl and the consumer sits a bounded queue: when the client reads slower
// than the upstream writes, the transfer is paused (CURL_WRITEFUNC_PAUSE) and
// resumed once the consumer has caught up, so memory per stream stays bounded.
// Connect, first-token and idle timeouts, HTTP errors, malformed streams and
// in-stream error objects all end the generation with an explicit error_event.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "llm/curl_multi.hpp"
#include "llm/provider.hpp"

namespace parley::llm {

struct openai_settings {
  std::string base_url;  // e.g. "https://api.openai.com/v1"
  std::string api_key;   // sent as a bearer token, never logged; may be empty
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds first_token_timeout{30000};
  std::chrono::milliseconds idle_timeout{30000};
  std::string ca_file;  // CAs to verify an https upstream with; empty: the system's
};

// The JSON body sent upstream (exposed for tests).
std::string openai_request_body(const generation_request& request);

// One "data:" payload of the upstream stream, as far as we use it.
struct openai_chunk {
  std::string content;                       // choices[0].delta.content, NUL characters dropped
  std::optional<std::string> finish_reason;  // choices[0].finish_reason
  std::optional<llm::usage> usage;
  std::optional<std::string> error;  // an in-stream {"error":{...}}
};

// Parses one payload; nullopt if it is not a JSON object.
std::optional<openai_chunk> parse_openai_chunk(std::string_view data);

// The message of an upstream error body ({"error":{"message":...}}), if any.
std::optional<std::string> openai_error_message(std::string_view body);

class openai_provider final : public provider {
 public:
  // `multi` must outlive every generation started here.
  openai_provider(curl_multi& multi, openai_settings settings);

  std::string_view name() const noexcept override { return "openai"; }
  std::unique_ptr<generation> start(generation_request request,
                                    asio::any_io_executor consumer) override;

 private:
  curl_multi& multi_;
  openai_settings settings_;
};

}  // namespace parley::llm
