#pragma once

// Anthropic's Messages API (POST {base_url}/messages), always streamed. The
// transfer, its bounded queue, timeouts and cancellation are
// llm/streaming_call.hpp's; this is Anthropic's dialect:
//
// - the key goes in `x-api-key` (not a bearer token), with `anthropic-version`;
// - the prompt's system messages become the top-level `system` field, and the
//   conversation alternates user and assistant, starting with the user;
// - `max_tokens` is required, so a request without one gets the configured default;
//   a temperature above Anthropic's highest, 1, is sent as 1 (OpenAI's runs to 2);
// - the answer is a stream of named events: message_start (the prompt's usage),
//   content_block_* (text deltas), message_delta (stop reason, output usage),
//   message_stop (the end), ping, and error. A stream that ends without
//   message_stop was cut short.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "llm/curl_multi.hpp"
#include "llm/provider.hpp"
#include "llm/sse_parser.hpp"
#include "llm/streaming_call.hpp"

namespace parley::llm {

struct anthropic_settings {
  upstream_settings upstream;  // base_url e.g. "https://api.anthropic.com/v1"
  std::string version = "2023-06-01";
  std::int64_t max_tokens = 1024;  // for a request that sets none
};

// The JSON body sent upstream (exposed for tests).
std::string anthropic_request_body(const generation_request& request,
                                   std::int64_t default_max_tokens);

// What one event of the stream means; nullopt if its data is not a JSON object.
// Usage maps to Parley's: the prompt is every input token, cached or not
// (input_tokens + cache_creation_input_tokens + cache_read_input_tokens); the
// stop reasons end_turn and stop_sequence finish with "stop", max_tokens with
// "length".
std::optional<stream_step> read_anthropic_event(const sse_event& event);

// The message of an error body ({"type":"error","error":{"type":...,"message":...}}).
std::optional<std::string> anthropic_error_message(std::string_view body);

class anthropic_provider final : public streaming_provider {
 public:
  // `multi` must outlive every generation started here.
  anthropic_provider(curl_multi& multi, anthropic_settings settings);

 private:
  stream_request prepare(const generation_request& request,
                         const std::string& api_key) const override;

  std::string version_;
  std::int64_t max_tokens_;
};

}  // namespace parley::llm
