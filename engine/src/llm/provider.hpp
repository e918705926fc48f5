#pragma once

// The generation interface every LLM provider implements. A provider starts a
// generation; the caller pulls its events (tokens, then the end with usage, or an
// error) with co_await next() on its own strand, and may cancel() at any time, e.g.
// when the client disconnects, so that nobody pays for tokens nobody reads.
//
// Nothing here knows about HTTP clients or JSON; the chat handler converts at the
// door.

#include <utility>  // before Asio under g++ 12 / Boost 1.74

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace parley::llm {

namespace asio = boost::asio;

enum class role : std::uint8_t { system, user, assistant };

std::string_view to_string(role r) noexcept;

struct message {
  llm::role role = role::user;
  std::string content;
};

// A retrieved passage the answer may cite as [n] (n = position + 1).
struct source_passage {
  std::string title;
  std::string text;
};

struct generation_request {
  std::vector<message> messages;  // the complete prompt
  std::string model;
  std::optional<double> temperature;
  std::optional<std::int64_t> max_tokens;
  // The tenant's own credential for the provider, sent instead of the operator's key.
  std::optional<std::string> api_key;
  // What the prompt is grounded on, in citation order. Providers that call a model
  // find it in `messages`; the extractive provider answers from it directly.
  std::string question;
  std::vector<source_passage> sources;
};

struct usage {
  std::int64_t prompt_tokens = 0;
  std::int64_t completion_tokens = 0;
};

struct token_event {
  std::string text;
};

// The generation finished normally. `usage` is what the provider reported; empty
// when it reported none.
struct done_event {
  std::string finish_reason = "stop";  // "stop", "length", ...
  std::optional<llm::usage> usage;
};

// Why a generation failed. Tenants are told the kind in plain words (chat/);
// what the provider said stays in the operator's log.
enum class failure_kind : std::uint8_t {
  unreachable,  // no connection (refused, DNS, TLS)
  timeout,      // no first token, or silence mid-stream, within the configured time
  refused,      // the provider answered with an HTTP error status
  broken,       // a malformed, failed or cut-off stream; a local fault
  cancelled,    // cancel() was called
};

std::string_view to_string(failure_kind kind) noexcept;

// The generation failed (or was cancelled).
struct error_event {
  failure_kind kind = failure_kind::broken;
  // For the operator's log only: it may quote the provider's answer, which can
  // echo the operator's own key or account.
  std::string detail;
  // False when the request never reached the provider (no connection): nothing
  // can have been billed, so nothing is estimated.
  bool reached_provider = true;
};

using event = std::variant<token_event, done_event, error_event>;

class generation {
 public:
  virtual ~generation() = default;

  // The next event, or nullopt if none arrived within `max_wait` (the caller may
  // send a heartbeat and ask again). After a done_event or an error_event there
  // are none; after cancel(), a pending or later call returns error_event. Await it
  // only on the executor given to provider::start().
  virtual asio::awaitable<std::optional<event>> next(std::chrono::milliseconds max_wait) = 0;

  // Abandons the generation (an upstream request is aborted). Idempotent; call it on
  // the same executor as next().
  virtual void cancel() = 0;
};

class provider {
 public:
  virtual ~provider() = default;

  // Starts generating at once. `consumer` is the strand the caller awaits next() on.
  virtual std::unique_ptr<generation> start(generation_request request,
                                            asio::any_io_executor consumer) = 0;
};

// Our own token count for accounting when a provider reported no usage (a stream
// cut short): words and punctuation per rag/text.hpp, a close, documented estimate
// of BPE token counts for English prose, never zero for non-empty text.
std::int64_t estimate_tokens(std::string_view text);
std::int64_t estimate_prompt_tokens(const std::vector<message>& messages);

}  // namespace parley::llm
