#pragma once

// Any OpenAI-compatible /chat/completions endpoint (OpenAI, OpenRouter, vLLM,
// Ollama, llama.cpp server), always streamed and always asked for usage
// (stream_options.include_usage). The transfer, its bounded queue, timeouts and
// cancellation are llm/streaming_call.hpp's; this is the OpenAI dialect: a bearer
// token, the chat.completion.chunk events, `data: [DONE]`.

#include <optional>
#include <string>
#include <string_view>

#include "llm/curl_multi.hpp"
#include "llm/openai_chunk.hpp"
#include "llm/provider.hpp"
#include "llm/streaming_call.hpp"

namespace parley::llm {

// The api_key is sent as a bearer token, when there is one.
using openai_settings = upstream_settings;

// The JSON body sent upstream (exposed for tests).
std::string openai_request_body(const generation_request& request);

// The message of an upstream error body ({"error":{"message":...}}), if any.
std::optional<std::string> openai_error_message(std::string_view body);

class openai_provider final : public streaming_provider {
 public:
  // `multi` must outlive every generation started here.
  openai_provider(curl_multi& multi, openai_settings settings);

 private:
  stream_request prepare(const generation_request& request,
                         const std::string& api_key) const override;
};

}  // namespace parley::llm
