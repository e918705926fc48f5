#pragma once

// One streamed generation from an HTTP upstream that answers in server-sent events,
// over libcurl's multi interface on the engine's event loop (llm/curl_multi.hpp).
// The providers (openai_provider, anthropic_provider) differ only in their dialect:
// where the request goes, its headers and body, and what one event of the answer
// means. Everything else is here, once:
//
// Between curl and the consumer sits a bounded queue: when the client reads slower
// than the upstream writes, the transfer is paused (CURL_WRITEFUNC_PAUSE) and
// resumed once the consumer has caught up, so memory per stream stays bounded.
// Connect, first-token and idle timeouts, HTTP errors, malformed streams and
// in-stream errors all end the generation with an explicit error_event; cancel()
// aborts the transfer.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "llm/curl_multi.hpp"
#include "llm/provider.hpp"
#include "llm/sse_parser.hpp"

namespace parley::llm {

// Where an upstream is and how long it may take.
struct upstream_settings {
  std::string base_url;  // e.g. "https://api.openai.com/v1"
  std::string api_key;   // never logged; may be empty
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds first_token_timeout{30000};
  std::chrono::milliseconds idle_timeout{30000};
  std::string ca_file;  // CAs to verify an https upstream with; empty: the system's
};

// What one event of an upstream's stream meant, as far as a generation goes.
struct stream_step {
  std::string text;  // an answer token; empty when the event carries none
  std::optional<std::string> finish_reason;
  // Usage reported so far; each count replaces the one reported before it.
  std::optional<std::int64_t> prompt_tokens;
  std::optional<std::int64_t> completion_tokens;
  std::optional<std::string> error;  // the upstream reported a failure in the stream
  bool complete = false;             // the answer is whole: the stream may end after this event
  bool last = false;                 // the stream's final event: whatever follows is ignored
};

// The request one generation sends.
struct stream_request {
  std::string path;                  // appended to base_url, e.g. "/chat/completions"
  std::vector<std::string> headers;  // "Name: value", besides Content-Type and Accept
  std::string body;                  // JSON
  std::string secret;                // the key in `headers`: never repeated in a failure's detail
};

// How an upstream's answer reads.
struct stream_dialect {
  // One event of the stream; nullopt when it is malformed.
  std::optional<stream_step> (*read)(const sse_event& event) = nullptr;
  // The message in an HTTP error's body, if it has one.
  std::optional<std::string> (*error_message)(std::string_view body) = nullptr;
};

// Starts the request at once. `multi` must outlive the generation; `consumer` is the
// strand the caller awaits next() on. The settings are shared: a stream may outlive
// its provider at shutdown.
std::unique_ptr<generation> start_streaming_call(curl_multi& multi,
                                                 std::shared_ptr<const upstream_settings> settings,
                                                 stream_request request, stream_dialect dialect,
                                                 asio::any_io_executor consumer);

// A provider whose generations are streaming calls: a subclass gives its dialect
// and prepares each request.
class streaming_provider : public provider {
 public:
  std::unique_ptr<generation> start(generation_request request,
                                    asio::any_io_executor consumer) override;

 protected:
  // `multi` must outlive every generation started here.
  streaming_provider(curl_multi& multi, upstream_settings settings, stream_dialect dialect);

  // The request, authenticated with `api_key` (empty: none).
  virtual stream_request prepare(const generation_request& request,
                                 const std::string& api_key) const = 0;

 private:
  curl_multi& multi_;
  std::shared_ptr<const upstream_settings> settings_;
  stream_dialect dialect_;
};

// What the upstream sends is stored (the answer, its finish reason, an error) and
// PostgreSQL text holds no NUL (store/text_guard.hpp): dropped as it arrives, so
// that what the client is sent and what is stored stay the same text.
std::string without_nul(std::string text);

}  // namespace parley::llm
