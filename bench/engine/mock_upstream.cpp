// The engine benchmark's mock of an OpenAI-compatible upstream, over plain
// HTTP/1.1 with keep-alive (so that the engine's curl reuses connections).
//
//   POST /v1/chat/completions with "stream": true
//       200 text/event-stream, chunked: the role chunk at once, the first
//       content token first_ms after the request, then the others gap_ms
//       apart, a final chunk (finish_reason "stop"), a usage chunk if
//       stream_options.include_usage asked for it, then data: [DONE].
//       Each token's text is "t<ns> ": the steady_clock time (CLOCK_MONOTONIC
//       with libstdc++ on Linux, one clock for every process of the machine)
//       at which it is written, in nanoseconds, so that the load generator
//       reads each token's delivery delay without the timers' jitter.
//       In hold mode: the headers, then nothing until the client leaves.
//   GET /stats                      {"open": n, "served": m}
//   POST /config?first_ms=&tokens=&gap_ms=&hold=0|1
//       changes the answers of the requests that follow; the benchmark
//       switches scenarios without a restart, which would break the
//       engine's kept-alive connections.
//
//   mock_upstream [--port 0] [--first-ms 100] [--tokens 20] [--gap-ms 5] [--hold 0|1]
//
// Prints "port <n>" once listening.  One thread: tokens are scheduled on
// asio steady timers at absolute times, so a busy loop delays a token but
// the delays never add up.

// Boost 1.74's awaitable.hpp uses std::exchange without including <utility>
#include <utility>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <stdexcept>
#include <string>
#include <string_view>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;
using clock_type = std::chrono::steady_clock;

namespace {

struct settings {
  long first_ms = 100;
  long tokens = 20;
  long gap_ms = 5;
  bool hold = false;
};

struct counters {
  long open = 0;    // streams answering now (held ones included)
  long served = 0;  // streams answered to the end
};

// Counts a stream as open for as long as it lives.
struct open_stream {
  explicit open_stream(counters& c) : c_(c) { ++c_.open; }
  ~open_stream() { --c_.open; }
  open_stream(const open_stream&) = delete;
  open_stream& operator=(const open_stream&) = delete;
  counters& c_;
};

// One setting by name ("first_ms", "tokens", "gap_ms", "hold"); false if unknown.
bool apply(settings& s, std::string_view name, std::string_view value) {
  long v = 0;
  try {
    v = std::stol(std::string(value));
  } catch (const std::exception&) {
    return false;
  }
  if (v < 0) return false;
  if (name == "first_ms") s.first_ms = v;
  else if (name == "tokens") s.tokens = v;
  else if (name == "gap_ms") s.gap_ms = v;
  else if (name == "hold") s.hold = v != 0;
  else return false;
  return true;
}

// "a=1&b=2" applied to s; false if any pair is not a setting.
bool apply_query(settings& s, std::string_view query) {
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto pair = query.substr(0, amp);
    const auto eq = pair.find('=');
    if (eq == std::string_view::npos || !apply(s, pair.substr(0, eq), pair.substr(eq + 1)))
      return false;
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
  }
  return true;
}

// Whether the JSON body has "key": true (the engine's compact dump or spaced).
bool json_true(std::string_view body, std::string_view key) {
  const std::string quoted = "\"" + std::string(key) + "\"";
  for (auto at = body.find(quoted); at != std::string_view::npos; at = body.find(quoted, at + 1)) {
    auto rest = body.substr(at + quoted.size());
    while (!rest.empty() && (rest.front() == ' ' || rest.front() == ':')) rest.remove_prefix(1);
    if (rest.starts_with("true")) return true;
  }
  return false;
}

// The request's "model" string, echoed in the chunks as OpenAI does.
std::string json_model(std::string_view body) {
  const auto at = body.find("\"model\"");
  if (at == std::string_view::npos) return "bench-model";
  const auto open = body.find('"', body.find(':', at) + 1);
  const auto close = body.find('"', open + 1);
  if (open == std::string_view::npos || close == std::string_view::npos) return "bench-model";
  return std::string(body.substr(open + 1, close - open - 1));
}

// The SSE events of one answer, each framed as an HTTP chunk in one reused buffer.
class sse_frames {
 public:
  sse_frames(std::string id, std::string model) : id_(std::move(id)), model_(std::move(model)) {
    out_.reserve(512);
  }

  const std::string& role() { return chunk(R"("delta":{"role":"assistant","content":""},"finish_reason":null)"); }
  // A plain ASCII word, which JSON escaping and the engine pass on unchanged.
  const std::string& token(clock_type::time_point sent) {
    return chunk(R"("delta":{"content":"t)" + std::to_string(sent.time_since_epoch().count()) +
                 R"( "},"finish_reason":null)");
  }
  const std::string& stop() { return chunk(R"("delta":{},"finish_reason":"stop")"); }
  const std::string& usage(long tokens) {
    return frame(R"({"id":")" + id_ + R"(","object":"chat.completion.chunk","created":)" +
                 created_ + R"(,"model":")" + model_ +
                 R"(","choices":[],"usage":{"prompt_tokens":500,"completion_tokens":)" +
                 std::to_string(tokens) + R"(,"total_tokens":)" + std::to_string(500 + tokens) +
                 "}}");
  }
  const std::string& done() { return frame("[DONE]"); }

 private:
  const std::string& chunk(const std::string& choice) {
    return frame(R"({"id":")" + id_ + R"(","object":"chat.completion.chunk","created":)" +
                 created_ + R"(,"model":")" + model_ + R"(","choices":[{"index":0,)" + choice +
                 "}]}");
  }
  const std::string& frame(const std::string& data) {
    const std::size_t size = data.size() + 8;  // "data: " + "\n\n"
    char hex[20];
    std::snprintf(hex, sizeof hex, "%zx\r\n", size);
    out_.assign(hex);
    out_.append("data: ").append(data).append("\n\n\r\n");
    return out_;
  }

  std::string id_;
  std::string model_;
  std::string created_ = std::to_string(std::time(nullptr));
  std::string out_;
};

constexpr std::string_view stream_head =
    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
    "Transfer-Encoding: chunked\r\n\r\n";

asio::awaitable<bool> write(tcp::socket& sock, std::string_view bytes) {
  beast::error_code ec;
  co_await asio::async_write(sock, asio::buffer(bytes), asio::redirect_error(asio::use_awaitable, ec));
  co_return !ec;
}

// Waits for the client to leave: a held stream ends only then.
asio::awaitable<void> until_closed(tcp::socket& sock) {
  char scratch[256];
  beast::error_code ec;
  while (!ec)
    co_await sock.async_read_some(asio::buffer(scratch), asio::redirect_error(asio::use_awaitable, ec));
}

// One streamed answer; false when the connection cannot be used again.
asio::awaitable<bool> stream(tcp::socket& sock, const http::request<http::string_body>& req,
                             clock_type::time_point arrived, settings s, counters& c) {
  const open_stream guard(c);
  sse_frames frames("chatcmpl-bench-" + std::to_string(c.served), json_model(req.body()));
  if (s.hold) {
    if (co_await write(sock, stream_head)) co_await until_closed(sock);
    co_return false;
  }
  if (!co_await write(sock, std::string(stream_head) + frames.role())) co_return false;
  asio::steady_timer timer(sock.get_executor());
  for (long i = 0; i < s.tokens; ++i) {
    timer.expires_at(arrived + std::chrono::milliseconds(s.first_ms + i * s.gap_ms));
    co_await timer.async_wait(asio::use_awaitable);
    if (!co_await write(sock, frames.token(clock_type::now()))) co_return false;
  }
  std::string tail = frames.stop();
  if (json_true(req.body(), "include_usage")) tail += frames.usage(s.tokens);
  tail += frames.done();
  tail += "0\r\n\r\n";
  if (!co_await write(sock, tail)) co_return false;
  ++c.served;
  co_return true;
}

asio::awaitable<bool> respond(tcp::socket& sock, http::status status, std::string body) {
  http::response<http::string_body> res{status, 11};
  res.set(http::field::content_type, "application/json");
  res.body() = std::move(body);
  res.prepare_payload();
  beast::error_code ec;
  co_await http::async_write(sock, res, asio::redirect_error(asio::use_awaitable, ec));
  co_return !ec;
}

// Answers one request; false when the connection cannot be used again.
asio::awaitable<bool> answer(tcp::socket& sock, const http::request<http::string_body>& req,
                             clock_type::time_point arrived, settings& s, counters& c) {
  const std::string_view target(req.target().data(), req.target().size());
  if (req.method() == http::verb::get && target == "/stats") {
    co_return co_await respond(sock, http::status::ok,
                               R"({"open":)" + std::to_string(c.open) + R"(,"served":)" +
                                   std::to_string(c.served) + "}");
  }
  if (req.method() == http::verb::post && target.starts_with("/config?")) {
    settings next = s;
    if (!apply_query(next, target.substr(8)))
      co_return co_await respond(sock, http::status::bad_request, R"({"error":"bad setting"})");
    s = next;
    co_return co_await respond(sock, http::status::ok, "{}");
  }
  if (req.method() == http::verb::post && target == "/v1/chat/completions") {
    if (!json_true(req.body(), "stream"))
      co_return co_await respond(sock, http::status::bad_request,
                                 R"({"error":{"message":"this mock only streams"}})");
    co_return co_await stream(sock, req, arrived, s, c);
  }
  co_return co_await respond(sock, http::status::not_found, R"({"error":{"message":"not found"}})");
}

asio::awaitable<void> session(tcp::socket sock, settings& s, counters& c) {
  sock.set_option(tcp::no_delay(true));
  // Room for the engine's request (about 4 KB with its passages) in one read: a
  // buffer grown 512 bytes at a time would read it in nine, a delay of the mock's
  // own that the through runs alone would pay.
  beast::flat_buffer buf;
  buf.reserve(16 * 1024);
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(1 << 20);
    beast::error_code ec;
    co_await http::async_read(sock, buf, parser, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    const auto arrived = clock_type::now();
    const auto req = parser.release();
    if (!co_await answer(sock, req, arrived, s, c) || !req.keep_alive()) co_return;
  }
}

asio::awaitable<void> accept_loop(tcp::acceptor& acceptor, settings& s, counters& c) {
  for (;;) {
    beast::error_code ec;
    tcp::socket sock = co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) continue;  // e.g. EMFILE: keep serving the connections we have
    asio::co_spawn(acceptor.get_executor(), session(std::move(sock), s, c), asio::detached);
  }
}

}  // namespace

int main(int argc, char** argv) {
  settings s;
  unsigned short port = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string name = argv[i];
    if (!name.starts_with("--")) return std::cerr << "usage: see the file's head\n", 2;
    name = name.substr(2);
    for (auto& ch : name) ch = ch == '-' ? '_' : ch;
    if (name == "port") port = static_cast<unsigned short>(std::stoi(argv[i + 1]));
    else if (!apply(s, name, argv[i + 1])) return std::cerr << "bad option --" << name << "\n", 2;
  }
  asio::io_context io(1);
  // listens with the system's largest backlog: 1,000 streams connect at once
  tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), port});
  counters c;
  asio::co_spawn(io, accept_loop(acceptor, s, c), asio::detached);
  std::cout << "port " << acceptor.local_endpoint().port() << std::endl;
  io.run();
}
