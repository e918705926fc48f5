// The engine benchmark's load generator: streamed chat completions over
// HTTP/1.1 (to nginx, or straight to the mock upstream), timed with
// std::chrono::steady_clock from the request's write to the first event
// with a non-empty delta.content (TTFT) and between later ones (gaps).
// Each token also carries the time the mock upstream wrote it ("t<ns> ",
// the same steady_clock: CLOCK_MONOTONIC, one clock for the machine): its
// arrival minus that is its delivery delay, free of the mock's timer jitter.
// A token without that stamp counts as an "unstamped token" error.
//
//   loadgen --port P --body JSON [--host 127.0.0.1] [--path /v1/chat/completions]
//           [--header "Name: value"]... [--concurrency 1] [--ramp 2000]
//           closed loop: [--seconds 10] [--warmup 2]
//           hold:        --hold
//
// Closed loop: `concurrency` streams in flight for `seconds` after a
// `warmup` (each finished stream is replaced at once, on the same
// connection while the server keeps it alive).  Prints "measuring" when the
// timed part starts and "measured" when it ends (the benchmark reads the
// processes' CPU times then), then one JSON object.  Streams started during
// the warm-up are not timed; failures are counted over the whole run,
// warm-up included.
//
// Hold: opens `concurrency` streams, prints {"held": n, "errors": {…}} once
// each has its response headers, and keeps them open until stdin closes
// or SIGTERM.
//
// Connections open at `ramp` per second, so that the servers' listen
// backlogs never overflow (a SYN dropped there costs a second's retry).
// One thread, one io_context (epoll); a stream's buffers are allocated
// once per connection, never per token.

// Boost 1.74's awaitable.hpp uses std::exchange without including <utility>
#include <utility>

#include <sys/resource.h>

#include <array>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "latency.hpp"
#include "sse_scan.hpp"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;
using clock_type = std::chrono::steady_clock;
using asio::use_awaitable;

namespace {

struct options {
  std::string host = "127.0.0.1";
  unsigned short port = 0;
  std::string path = "/v1/chat/completions";
  std::vector<std::string> headers;
  std::string body;
  long concurrency = 1;
  double seconds = 10;
  double warmup = 2;
  double ramp = 2000;  // connections opened per second
  bool hold = false;
};

options parse(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    const std::string name = argv[i];
    if (name == "--hold") {
      o.hold = true;
      continue;
    }
    if (i + 1 >= argc) throw std::invalid_argument(name + " needs a value");
    const std::string value = argv[++i];
    if (name == "--host") o.host = value;
    else if (name == "--port") o.port = static_cast<unsigned short>(std::stoi(value));
    else if (name == "--path") o.path = value;
    else if (name == "--header") o.headers.push_back(value);
    else if (name == "--body") o.body = value;
    else if (name == "--concurrency") o.concurrency = std::stol(value);
    else if (name == "--seconds") o.seconds = std::stod(value);
    else if (name == "--warmup") o.warmup = std::stod(value);
    else if (name == "--ramp") o.ramp = std::stod(value);
    else throw std::invalid_argument("unknown option " + name);
  }
  if (o.port == 0 || o.body.empty() || o.concurrency < 1 || o.ramp <= 0)
    throw std::invalid_argument("--port, --body and a positive --concurrency and --ramp are needed");
  return o;
}

// The request, built once and written as is by every stream.
std::string make_request(const options& o) {
  std::string r = "POST " + o.path + " HTTP/1.1\r\nHost: " + o.host + ":" +
                  std::to_string(o.port) + "\r\nContent-Type: application/json\r\n" +
                  "Accept: text/event-stream\r\nContent-Length: " + std::to_string(o.body.size()) +
                  "\r\n";
  for (const auto& h : o.headers) r += h + "\r\n";
  return r + "\r\n" + o.body;
}

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

clock_type::duration seconds(double s) {
  return std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(s));
}

struct target {
  tcp::endpoint endpoint;
  std::string request;
};

asio::awaitable<bool> connect(tcp::socket& sock, const target& t) {
  beast::error_code ec;
  co_await sock.async_connect(t.endpoint, asio::redirect_error(use_awaitable, ec));
  if (!ec) sock.set_option(tcp::no_delay(true), ec);
  co_return !ec;
}

asio::awaitable<void> sleep_until(clock_type::time_point when) {
  asio::steady_timer timer(co_await asio::this_coro::executor, when);
  co_await timer.async_wait(use_awaitable);
}

// When the mock upstream wrote a token ("t<ns> ..."), if the token says.
std::optional<clock_type::time_point> sent_at(std::string_view text) {
  if (!text.starts_with('t')) return std::nullopt;
  std::int64_t ns = 0;
  const auto [end, ec] = std::from_chars(text.data() + 1, text.data() + text.size(), ns);
  if (ec != std::errc{} || end == text.data() + 1) return std::nullopt;
  return clock_type::time_point(std::chrono::nanoseconds(ns));
}

// ---- closed loop --------------------------------------------------------------------

struct closed_loop {
  const target& to;
  clock_type::time_point measure_from;
  clock_type::time_point stop_at;
  latency& rec;
};

// A connection's buffers, reused by every stream it carries.
struct connection {
  explicit connection(const asio::any_io_executor& ex) : sock(ex) {}
  tcp::socket sock;
  beast::flat_buffer buf;
  std::array<char, 16384> body{};
};

// One stream on c; false when the connection cannot carry another.
asio::awaitable<bool> one_stream(connection& c, closed_loop& run) {
  const auto sent = clock_type::now();
  const bool timed = sent >= run.measure_from;
  beast::error_code ec;
  co_await asio::async_write(c.sock, asio::buffer(run.to.request),
                             asio::redirect_error(use_awaitable, ec));
  http::response_parser<http::buffer_body> parser;
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());
  if (!ec)
    co_await http::async_read_header(c.sock, c.buf, parser, asio::redirect_error(use_awaitable, ec));
  if (ec) {
    run.rec.error("io");
    co_return false;
  }
  sse_scan scan;
  long tokens = 0;
  clock_type::time_point last;
  while (!parser.is_done()) {
    parser.get().body().data = c.body.data();
    parser.get().body().size = c.body.size();
    co_await http::async_read_some(c.sock, c.buf, parser, asio::redirect_error(use_awaitable, ec));
    if (ec && ec != http::error::need_buffer) {
      run.rec.error("io");
      co_return false;
    }
    const auto now = clock_type::now();
    const std::size_t n = c.body.size() - parser.get().body().size;
    scan.feed({c.body.data(), n}, [&](std::string_view text) {
      if (timed) {
        tokens == 0 ? run.rec.ttft(now - sent) : run.rec.gap(now - last);
        if (const auto at = sent_at(text)) run.rec.delivery(now - *at);
        else run.rec.error("unstamped token");
      }
      last = now;
      ++tokens;
    });
  }
  if (const int status = parser.get().result_int(); status != 200) {
    run.rec.error(std::to_string(status));
  } else if (!scan.done() || tokens == 0) {
    run.rec.error("incomplete");
  } else if (timed) {
    run.rec.completed();
  }
  co_return parser.get().keep_alive();
}

// One slot of the loop: streams one after the other until the run's end.
asio::awaitable<void> closed_client(closed_loop& run, clock_type::time_point start_at) {
  co_await sleep_until(start_at);
  connection c(co_await asio::this_coro::executor);
  while (clock_type::now() < run.stop_at) {
    if (!c.sock.is_open() && !co_await connect(c.sock, run.to)) {
      run.rec.error("connect");
      c.sock.close();
      co_await sleep_until(clock_type::now() + std::chrono::milliseconds(10));
      continue;
    }
    if (!co_await one_stream(c, run)) {
      beast::error_code ignored;
      c.sock.close(ignored);
      c.buf.clear();
    }
  }
}

// Marks the timed part's start and end on stdout, as it happens.
asio::awaitable<void> mark_window(const closed_loop& run) {
  co_await sleep_until(run.measure_from);
  std::printf("measuring\n");
  std::fflush(stdout);
  co_await sleep_until(run.stop_at);
  std::printf("measured\n");
  std::fflush(stdout);
}

void run_closed(const options& o, const target& to) {
  asio::io_context io(1);
  latency rec;
  const auto start = clock_type::now();
  const auto ramped = start + seconds(o.concurrency / o.ramp);
  closed_loop run{to, ramped + seconds(o.warmup), ramped + seconds(o.warmup + o.seconds), rec};
  for (long i = 0; i < o.concurrency; ++i)
    asio::co_spawn(io, closed_client(run, start + seconds(i / o.ramp)), asio::detached);
  asio::co_spawn(io, mark_window(run), asio::detached);
  io.run();  // returns once every slot has finished its last stream
  rec.print(std::chrono::duration<double>(clock_type::now() - start).count(), cpu_seconds());
}

// ---- hold ---------------------------------------------------------------------------

struct holding {
  explicit holding(long n) : total(n) {}
  long total;
  long settled = 0;
  long held = 0;
  std::map<std::string, long> errors;

  void settle(const std::string& error) {
    error.empty() ? ++held : ++errors[error];
    if (++settled < total) return;
    std::printf("{\"held\": %ld, \"errors\": {", held);
    const char* sep = "";
    for (const auto& [kind, n] : errors) {
      std::printf("%s\"%s\": %ld", sep, kind.c_str(), n);
      sep = ", ";
    }
    std::printf("}}\n");
    std::fflush(stdout);
  }
};

// Opens one stream on sock and reads its headers; the body is left unread.
asio::awaitable<void> hold_client(tcp::socket& sock, const target& to, holding& h) {
  if (!co_await connect(sock, to)) co_return h.settle("connect");
  beast::error_code ec;
  co_await asio::async_write(sock, asio::buffer(to.request), asio::redirect_error(use_awaitable, ec));
  beast::flat_buffer buf;
  http::response_parser<http::buffer_body> parser;
  if (!ec) co_await http::async_read_header(sock, buf, parser, asio::redirect_error(use_awaitable, ec));
  if (ec) co_return h.settle("io");
  const int status = parser.get().result_int();
  h.settle(status == 200 ? "" : std::to_string(status));
}

asio::awaitable<void> open_all(std::vector<tcp::socket>& socks, const options& o, const target& to,
                               holding& h) {
  const auto ex = co_await asio::this_coro::executor;
  const auto start = clock_type::now();
  for (long i = 0; i < o.concurrency; ++i) {
    co_await sleep_until(start + seconds(i / o.ramp));
    socks.emplace_back(ex);  // reserved: the references held by earlier clients stay valid
    asio::co_spawn(ex, hold_client(socks.back(), to, h), asio::detached);
  }
}

// Ends the run when stdin reaches its end (the benchmark closes it).
asio::awaitable<void> until_stdin_closes(asio::io_context& io) {
  asio::posix::stream_descriptor in(io, ::dup(0));
  char scratch[64];
  beast::error_code ec;
  while (!ec) co_await in.async_read_some(asio::buffer(scratch), asio::redirect_error(use_awaitable, ec));
  io.stop();
}

void run_hold(const options& o, const target& to) {
  asio::io_context io(1);
  std::vector<tcp::socket> socks;
  socks.reserve(o.concurrency);
  holding h{o.concurrency};
  asio::signal_set signals(io, SIGTERM, SIGINT);
  signals.async_wait([&io](const beast::error_code&, int) { io.stop(); });
  asio::co_spawn(io, open_all(socks, o, to, h), asio::detached);
  asio::co_spawn(io, until_stdin_closes(io), asio::detached);
  io.run();
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  try {
    o = parse(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "loadgen: " << e.what() << " (usage: see the head of loadgen.cpp)\n";
    return 2;
  }
  const target to{{asio::ip::make_address(o.host), o.port}, make_request(o)};
  o.hold ? run_hold(o, to) : run_closed(o, to);
}
