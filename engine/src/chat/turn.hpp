#pragma once

// One conversational turn in plain C++ types: what a front end asks of the
// generation pipeline (chat/pipeline.hpp), and the sink the pipeline reports its
// events to. No wire format here: the OpenAI API (api/chat_completions) and the
// widget's event stream each turn these events into their own.

#include <utility>  // before Asio under g++ 12 / Boost 1.74

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "llm/provider.hpp"
#include "rag/citation.hpp"

namespace parley::chat {

namespace asio = boost::asio;

enum class message_role : std::uint8_t { system, user, assistant };

struct chat_message {
  message_role role = message_role::user;
  std::string content;
};

struct turn_request {
  std::string tenant_id;   // only from the verified edge identity
  std::string request_id;  // the edge's, for logs and error messages
  std::string agent_code;
  std::vector<chat_message> messages;      // the client's; the last is the user's question
  std::optional<std::string> session_id;   // continue this stored session
  std::optional<std::string> user;         // the client's own end-user id
  std::string channel = "api";             // sessions.channel of a new session
  std::optional<std::string> question_id;  // the user message's id, when the client was told it
  std::optional<double> temperature;       // the agent's setting when unset
  std::optional<std::int64_t> max_tokens;
  // When the engine read the request: the origin of the turn's timing.
  std::chrono::steady_clock::time_point received_at = std::chrono::steady_clock::now();
};

// The turn could not start: nothing was stored and nothing generated.
class turn_error : public std::runtime_error {
 public:
  enum class reason {
    agent_not_found,
    session_not_found,
    embedding_failed,
    over_budget,
    provider_unavailable,  // the agent's provider is not offered, or has no usable key
  };
  turn_error(reason why, std::string message) : std::runtime_error(std::move(message)), why_(why) {}
  reason why() const noexcept { return why_; }

 private:
  reason why_;
};

// How a generation call ended; stored in llm_requests.status.
enum class call_status : std::uint8_t { ok, error, cancelled };

std::string_view to_string(call_status s) noexcept;

// The session is known and an answer follows.
struct turn_opened {
  std::string session_id;
};

struct turn_done {
  std::string message_id;  // the stored answer's
  std::string finish_reason = "stop";
  llm::usage usage;
  std::vector<rag::citation> citations;  // empty for a refusal
};

// Safe to show the client: a stable code and a plain sentence that names the
// request id. What the provider said is only in the operator's log.
struct turn_failure {
  std::string code;  // "upstream_error", "storage_error"
  std::string message;
};

// Receives one turn's events, in this order:
//   open, token*, then done or fail          (an answer)
//   fail                                     (failed before anything was sent)
// heartbeat() comes whenever a heartbeat interval passed without an event.
// A front end that returns false from open/token/heartbeat has lost its client:
// the pipeline cancels the call and ends the turn without done or fail.
class turn_sink {
 public:
  virtual ~turn_sink() = default;

  virtual asio::awaitable<bool> open(const turn_opened& opened) = 0;
  virtual asio::awaitable<bool> token(std::string_view text) = 0;
  virtual asio::awaitable<bool> heartbeat() = 0;
  virtual asio::awaitable<void> done(const turn_done& done) = 0;
  virtual asio::awaitable<void> fail(const turn_failure& failure) = 0;

  // `cancel` runs once, on the turn's strand, if the client goes away while the
  // answer is generated, so that nobody pays for tokens nobody reads.
  virtual void on_client_gone(std::function<void()> cancel) = 0;
};

}  // namespace parley::chat
