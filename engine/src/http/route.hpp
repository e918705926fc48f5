#pragma once

// What route handlers see of HTTP: plain request/response structs, and a responder
// that sends one response or starts an SSE stream. No Beast types here; Beast stays
// inside the transport files of http/ (connection, responder, SSE writer, peer watch).
// The route table is http/router.hpp.
//
// Handlers run as coroutines on the connection's strand. They parse JSON into
// structs at the door (parse_json_body) and throw api_error for client mistakes.
//
// g++ 12 coroutine pitfalls (both seen here): build values before co_await rather
// than inside its operand --
//   * a braced list there ("co_await res.send(response::json({{"a", 1}}))") fails to
//     compile with "array used as initializer";
//   * a lambda with non-trivial captures there is destroyed twice at run time.

#include <utility>  // before Asio under g++ 12 / Boost 1.74

#include <boost/asio/awaitable.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "edge/identity.hpp"

namespace parley::http {

namespace asio = boost::asio;

struct header_field {
  std::string name;
  std::string value;
};

struct request {
  std::string method;    // upper case: "GET", "POST", ...
  std::string path;      // as sent, without the query
  std::string log_path;  // what logs show instead of `path`, when it holds a credential
  std::string route;     // the matched route's pattern; empty when none matched
  std::map<std::string, std::string> query;   // percent-decoded; last value wins
  std::map<std::string, std::string> params;  // "{name}" segments, percent-decoded
  std::vector<header_field> headers;          // as received
  std::string body;
  edge::identity identity;  // verified context; default-constructed on public routes
  std::chrono::steady_clock::time_point received_at{};

  // Case-insensitive; the first field with that name.
  std::optional<std::string_view> header(std::string_view name) const;

  // Frees the body and the header fields once a handler has taken what it needs:
  // a long-lived stream then does not hold them.
  void release_payload() noexcept {
    std::string().swap(body);
    std::vector<header_field>().swap(headers);
  }
  std::optional<std::string_view> query_param(std::string_view name) const;

  const std::string& loggable_path() const noexcept { return log_path.empty() ? path : log_path; }
};

struct response {
  unsigned status = 200;
  std::string content_type = "application/json";  // none when empty
  std::vector<header_field> headers;              // extra fields
  std::string body;

  // Body from base::dump_json (cannot throw on bad UTF-8).
  static response json(unsigned status, const nlohmann::json& body);
  static response json(const nlohmann::json& body) { return json(200, body); }
};

struct sse_options {
  // A ": ping\n\n" comment is written after this long without any frame (SPEC 3.6:
  // 15 s, before the first token too). Zero disables.
  std::chrono::milliseconds heartbeat{15000};
  std::vector<header_field> headers;  // extra response fields
};

// An open text/event-stream response (chunked; Cache-Control: no-cache;
// X-Accel-Buffering: no). Lives until the handler returns, then the server
// finishes it if the handler did not.
class sse_writer {
 public:
  virtual ~sse_writer() = default;

  // Queues one complete frame, e.g. "data: {...}\n\n". Suspends while more than
  // server.sse_queue_bytes are queued (so a slow client slows its producer).
  // Returns false once the client is gone; later frames are dropped.
  virtual asio::awaitable<bool> write(std::string frame) = 0;

  virtual bool client_gone() const noexcept = 0;

  // `fn` runs once, on the request's strand, when the client disconnects: a failed or
  // stalled write, or the peer closing while the stream is idle. Runs at once if the
  // client is already gone. Use it to cancel upstream work.
  virtual void on_client_gone(std::function<void()> fn) = 0;

  // Flushes queued frames and ends the chunked body. Idempotent.
  virtual asio::awaitable<void> finish() = 0;
};

class responder {
 public:
  virtual ~responder() = default;

  // Sends one complete response. Call at most once, and not after start_sse().
  virtual asio::awaitable<void> send(response res) = 0;

  // Sends 200 with the SSE header fields and returns the stream's writer.
  virtual asio::awaitable<std::reference_wrapper<sse_writer>> start_sse(sse_options options) = 0;

  // For a handler that works a while before it answers: `fn` runs once, on the
  // request's strand, if the client disconnects first (use it to cancel upstream
  // work; the response then goes nowhere). The watch ends when the response starts.
  // One callback per request: a second call is ignored.
  virtual void on_client_gone(std::function<void()> fn) = 0;
};

// A handler that returns without responding gets 500; an api_error thrown before
// responding becomes its JSON error; after start_sse() the stream is just ended.
using handler = std::function<asio::awaitable<void>(request&, responder&)>;

// Parses request.body as JSON (an object), refusing invalid JSON, invalid UTF-8 and
// nesting deeper than 32 with api_error 400 invalid_json.
nlohmann::json parse_json_body(const request& req);

// The same for a body already taken out of its request.
nlohmann::json parse_json_object(std::string_view text);

}  // namespace parley::http
