#include "http/server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <deque>
#include <filesystem>
#include <system_error>

#include "base/clock.hpp"
#include "http/api_error.hpp"
#include "obs/log.hpp"
#include "shared/parley_context.h"

namespace parley::http {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using local = asio::local::stream_protocol;
using clock = std::chrono::steady_clock;
using asio::use_awaitable;

constexpr std::size_t header_limit = 16 * 1024;

std::chrono::milliseconds ms(std::uint32_t v) { return std::chrono::milliseconds(v); }

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decoding; '+' is a space only in query strings. Throws api_error 400 on
// a broken escape.
std::string percent_decode(std::string_view in, bool plus_is_space) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%') {
      const int hi = i + 2 < in.size() ? hex_value(in[i + 1]) : -1;
      const int lo = i + 2 < in.size() ? hex_value(in[i + 2]) : -1;
      if (hi < 0 || lo < 0) throw api_error::bad_request("invalid_path", "Malformed percent-encoding in the URL.");
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (plus_is_space && in[i] == '+') {
      out += ' ';
    } else {
      out += in[i];
    }
  }
  return out;
}

std::map<std::string, std::string> parse_query(std::string_view q) {
  std::map<std::string, std::string> out;
  while (!q.empty()) {
    const auto amp = q.find('&');
    const auto pair = q.substr(0, amp);
    if (!pair.empty()) {
      const auto eq = pair.find('=');
      out[percent_decode(pair.substr(0, eq), true)] =
          eq == std::string_view::npos ? std::string() : percent_decode(pair.substr(eq + 1), true);
    }
    if (amp == std::string_view::npos) break;
    q.remove_prefix(amp + 1);
  }
  return out;
}

std::string_view context_problem(edge::context_error e) noexcept {
  switch (e) {
    case edge::context_error::signature: return "The request context has an invalid signature.";
    case edge::context_error::expired: return "The request context has expired.";
    case edge::context_error::future: return "The request context is dated in the future.";
    default: return "The request context is malformed.";
  }
}

// Wakes every coroutine waiting on it; a timer that never expires on its own.
class event {
 public:
  explicit event(const asio::any_io_executor& ex) : timer_(ex, clock::time_point::max()) {}
  asio::awaitable<void> wait() {
    boost::system::error_code ec;
    co_await timer_.async_wait(asio::redirect_error(use_awaitable, ec));
  }
  void notify() { timer_.cancel(); }

 private:
  asio::steady_timer timer_;
};

// What every connection reads; owned by the server.
struct server_state {
  const config::server_config& cfg;
  const router& routes;
  const edge::context_verifier& verifier;
};

class connection;

// While a response is prepared or streamed the peer (nginx) sends nothing: a read that
// completes means it closed the connection, i.e. the client went away. Bytes of a
// pipelined request that arrive meanwhile are kept for the parser of the next one.
class peer_watch {
 public:
  explicit peer_watch(connection& conn);
  // A watch still reading (an exception skipped stop()) closes the connection under
  // it, so that the read ends without touching its owner.
  ~peer_watch();

  // Starts reading; `closed` runs on the connection's strand if the peer closes first.
  void start(std::function<void()> closed);

  // Cancels the read and waits until it has ended. Idempotent.
  asio::awaitable<void> stop();

 private:
  // Shared with the reading coroutine, which may end after the watch.
  struct state {
    explicit state(const asio::any_io_executor& ex) : done(ex) {}
    bool running = false;
    bool stopping = false;
    bool abandoned = false;
    event done;
  };

  static asio::awaitable<void> run(connection& conn, std::shared_ptr<state> s,
                                   std::function<void()> closed);

  connection& conn_;
  std::shared_ptr<state> state_;
};

// The open SSE response of one request. Runs on the connection's strand.
class sse_writer_impl final : public sse_writer {
 public:
  sse_writer_impl(connection& conn, sse_options options);

  asio::awaitable<bool> start(unsigned version, bool keep_alive);
  asio::awaitable<bool> write(std::string frame) override;
  bool client_gone() const noexcept override { return gone_; }
  void on_client_gone(std::function<void()> fn) override;
  asio::awaitable<void> finish() override;

 private:
  asio::awaitable<void> drain();
  asio::awaitable<void> heartbeat();
  void mark_gone();

  connection& conn_;
  sse_options options_;
  std::deque<std::string> queue_;
  std::size_t queued_bytes_ = 0;
  bool chunked_ = true;
  bool writing_ = false;
  bool gone_ = false;
  bool finished_ = false;
  bool heartbeat_running_ = false;
  clock::time_point last_write_ = clock::now();
  std::vector<std::function<void()>> gone_callbacks_;
  event progress_;                    // a write completed or the client went away
  event heartbeat_done_;
  asio::steady_timer heartbeat_timer_;
  peer_watch watch_;
};

class responder_impl final : public responder {
 public:
  responder_impl(connection& conn, unsigned version, bool keep_alive)
      : conn_(conn), version_(version), keep_alive_(keep_alive), watch_(conn) {}

  asio::awaitable<void> send(response res) override;
  asio::awaitable<std::reference_wrapper<sse_writer>> start_sse(sse_options options) override;
  void on_client_gone(std::function<void()> fn) override;

  bool responded() const noexcept { return status_ != 0; }
  unsigned status() const noexcept { return status_; }
  bool keep_alive() const noexcept { return keep_alive_; }
  sse_writer_impl* stream() noexcept { return sse_.get(); }
  void set_request_id(std::string id) { request_id_ = std::move(id); }

 private:
  connection& conn_;
  unsigned version_;
  bool keep_alive_;
  unsigned status_ = 0;
  std::string request_id_;
  std::unique_ptr<sse_writer_impl> sse_;
  peer_watch watch_;                  // only while on_client_gone() is pending
};

// A request as read off the socket, before routing.
struct incoming {
  request req;
  std::string query;        // raw; parsed inside the error wrapper (bad escapes are 400)
  unsigned version = 11;
  bool keep_alive = true;
  bool too_large = false;   // body over server.max_body_bytes: answered with 413
};

class connection {
 public:
  connection(local::socket socket, const server_state& srv)
      : socket_(std::move(socket)), srv_(srv), deadline_(socket_.get_executor()),
        watchdog_done_(socket_.get_executor()), id_(++accepted) {}

  asio::awaitable<void> run();

  // No deadline while a handler works; one per read and write.
  void arm(std::chrono::milliseconds timeout) { deadline_.expires_after(timeout); }
  void disarm() { deadline_.expires_at(clock::time_point::max()); }

  local::socket& socket() noexcept { return socket_; }
  beast::flat_buffer& buffer() noexcept { return buffer_; }
  const config::server_config& cfg() const noexcept { return srv_.cfg; }
  bool peer_closed() const noexcept { return peer_closed_; }
  void note_peer_closed() noexcept { peer_closed_ = true; }

  template <class Message>
  asio::awaitable<bool> write_message(Message& msg) {
    boost::system::error_code ec;
    arm(ms(cfg().write_timeout_ms));
    co_await bhttp::async_write(socket_, msg, asio::redirect_error(use_awaitable, ec));
    disarm();
    co_return !ec;
  }

 private:
  asio::awaitable<void> watchdog();
  asio::awaitable<std::optional<incoming>> read_request();
  asio::awaitable<bool> serve_one();
  asio::awaitable<void> dispatch(request& req, responder_impl& res);
  asio::awaitable<void> refuse(responder_impl& res, const api_error& e, bool close);

  local::socket socket_;
  const server_state& srv_;
  beast::flat_buffer buffer_;
  asio::steady_timer deadline_;
  event watchdog_done_;
  bool watchdog_running_ = false;
  bool closing_ = false;
  bool peer_closed_ = false;
  // In the request log: which requests shared a connection (nginx keeps them alive).
  std::uint64_t id_;
  static inline std::atomic<std::uint64_t> accepted{0};
};

// ---- connection -------------------------------------------------------------------------

// Closes the socket when the armed deadline passes; every pending read or write then
// fails and the session ends. Re-arming cancels the wait, which loops.
asio::awaitable<void> connection::watchdog() {
  watchdog_running_ = true;
  while (!closing_) {
    boost::system::error_code ec;
    co_await deadline_.async_wait(asio::redirect_error(use_awaitable, ec));
    if (!closing_ && deadline_.expiry() <= clock::now()) {
      socket_.close(ec);
      break;
    }
  }
  watchdog_running_ = false;
  watchdog_done_.notify();
}

asio::awaitable<void> connection::run() {
  disarm();
  asio::co_spawn(socket_.get_executor(), watchdog(), asio::detached);
  try {
    while (co_await serve_one()) {
    }
  } catch (const std::exception& e) {
    obs::error("connection_error", {{"error", e.what()}});
  }
  closing_ = true;
  boost::system::error_code ec;
  socket_.shutdown(local::socket::shutdown_send, ec);
  socket_.close(ec);
  deadline_.cancel();
  while (watchdog_running_) co_await watchdog_done_.wait();
}

asio::awaitable<void> connection::refuse(responder_impl& res, const api_error& e, bool close) {
  auto r = response::json(e.status(), e.body());
  if (close) r.headers.push_back({"Connection", "close"});
  co_await res.send(std::move(r));
}

// Reads one request. Nothing when the peer closed, timed out or sent garbage (there
// is nobody to answer). The parser lives only in this frame, so a long-lived stream
// does not keep it.
asio::awaitable<std::optional<incoming>> connection::read_request() {
  bhttp::request_parser<bhttp::string_body> parser;
  parser.header_limit(header_limit);
  parser.body_limit(cfg().max_body_bytes);
  boost::system::error_code ec;

  arm(ms(cfg().idle_timeout_ms));
  co_await bhttp::async_read_header(socket_, buffer_, parser, asio::redirect_error(use_awaitable, ec));
  // A declared Content-Length over the limit fails here already.
  if (ec && ec != bhttp::error::body_limit) co_return std::nullopt;
  const auto received_at = clock::now();
  if (!ec && !parser.is_done()) {
    arm(ms(cfg().read_timeout_ms));
    co_await bhttp::async_read(socket_, buffer_, parser, asio::redirect_error(use_awaitable, ec));
  }
  disarm();
  if (ec && ec != bhttp::error::body_limit) co_return std::nullopt;

  auto& raw = parser.get();
  incoming in;
  in.version = raw.version();
  in.keep_alive = raw.keep_alive();
  in.too_large = ec == bhttp::error::body_limit;
  request& req = in.req;
  req.received_at = received_at;
  req.method = std::string(raw.method_string());
  const std::string_view target = raw.target();
  const auto qmark = target.find('?');
  req.path = std::string(target.substr(0, qmark));
  if (qmark != std::string_view::npos) in.query = std::string(target.substr(qmark + 1));
  req.headers.reserve(std::distance(raw.begin(), raw.end()));
  for (const auto& field : raw) {
    req.headers.push_back({std::string(field.name_string()), std::string(field.value())});
  }
  req.body = std::move(raw.body());
  co_return in;
}

// Reads one request, answers it; returns whether the connection stays open.
asio::awaitable<bool> connection::serve_one() {
  auto in = co_await read_request();
  if (!in) co_return false;
  request& req = in->req;
  responder_impl res(*this, in->version, in->keep_alive);
  if (in->too_large) {
    const auto too_large = api_error::payload_too_large(
        "The request body is larger than " + std::to_string(cfg().max_body_bytes) + " bytes.");
    co_await refuse(res, too_large, true);
    co_return false;
  }

  std::optional<api_error> failure;
  try {
    if (!in->query.empty()) req.query = parse_query(in->query);
    co_await dispatch(req, res);
  } catch (const api_error& e) {
    failure = e;
  } catch (const std::exception& e) {
    obs::error("handler_exception", {{"error", e.what()}, {"path", req.path},
                                     {"request_id", req.identity.request_id}});
    failure = api_error::internal();
  }
  if (failure && res.responded()) {
    // Too late for an error response (headers or an SSE stream went out already):
    // the stream just ends, and the log says why.
    obs::warn("handler_error_after_response", {{"path", req.path},
                                               {"request_id", req.identity.request_id},
                                               {"code", failure->code()}});
  }
  if (auto* stream = res.stream()) {
    co_await stream->finish();
  } else if (failure && !res.responded()) {
    co_await refuse(res, *failure, false);
  } else if (!res.responded()) {
    obs::error("handler_no_response", {{"path", req.path}, {"request_id", req.identity.request_id}});
    const auto internal = api_error::internal();
    co_await refuse(res, internal, false);
  }

  const auto latency = std::chrono::duration<double, std::milli>(clock::now() - req.received_at).count();
  // Health probes arrive every few seconds; they are only interesting when debugging.
  const bool probe = req.path == "/healthz" || req.path == "/readyz";
  obs::log(probe ? obs::level::debug : obs::level::info, "request",
           {{"method", req.method},
            {"path", req.path},
            {"status", res.status()},
            {"latency_ms", std::round(latency * 1000) / 1000},
            {"request_id", req.identity.request_id},
            {"tenant_id", req.identity.tenant_id},
            {"session_id", req.identity.session_id.value_or("")},
            {"connection", id_}});
  const bool gone = res.stream() && res.stream()->client_gone();
  co_return res.keep_alive() && !gone && !peer_closed_ && socket_.is_open();
}

asio::awaitable<void> connection::dispatch(request& req, responder_impl& res) {
  const auto& routes = srv_.routes;
  auto m = routes.match(req.method, req.path);
  const bool is_public = m.found && m.found->is_public;
  if (!is_public) {
    // Unknown paths are refused like any other route without a valid context, so
    // nothing about the route table is visible without the edge's signature.
    const auto header = req.header(PARLEY_CONTEXT_HEADER);
    if (!header) throw api_error::unauthorized_context("The request context is missing.");
    auto verdict = srv_.verifier.verify(*header, base::unix_millis());
    if (!verdict.identity) {
      obs::warn("context_rejected", {{"reason", edge::to_string(verdict.error)}, {"path", req.path}});
      throw api_error::unauthorized_context(std::string(context_problem(verdict.error)));
    }
    req.identity = std::move(*verdict.identity);
    res.set_request_id(req.identity.request_id);
  }
  if (!m.found) {
    if (m.path_known) throw api_error::method_not_allowed();
    throw api_error::not_found("not_found", "Unknown path: " + req.path);
  }
  if (!is_public && std::ranges::find(m.found->kinds, req.identity.kind) == m.found->kinds.end()) {
    throw api_error::unauthorized_context("This route does not accept a '" +
                                          std::string(edge::to_string(req.identity.kind)) +
                                          "' context.");
  }
  if (!is_public && routes.holding()) {
    throw api_error::unavailable("not_ready", "The engine is starting: its start-up checks have not passed yet.");
  }
  for (auto& [name, value] : m.params) req.params[name] = percent_decode(value, false);
  co_await m.found->handler(req, res);
}

// ---- peer watch ---------------------------------------------------------------------

peer_watch::peer_watch(connection& conn)
    : conn_(conn), state_(std::make_shared<state>(conn.socket().get_executor())) {}

peer_watch::~peer_watch() {
  if (!state_->running) return;
  state_->abandoned = true;
  boost::system::error_code ec;
  conn_.socket().close(ec);
}

void peer_watch::start(std::function<void()> closed) {
  if (state_->running) return;
  state_->running = true;
  state_->stopping = false;
  asio::co_spawn(conn_.socket().get_executor(), run(conn_, state_, std::move(closed)),
                 asio::detached);
}

asio::awaitable<void> peer_watch::run(connection& conn, std::shared_ptr<state> s,
                                      std::function<void()> closed) {
  auto& buffer = conn.buffer();
  boost::system::error_code ec;
  std::size_t n = 0;
  // stop() may have come before this coroutine first ran: then there is no read to
  // cancel, and one started now would wait for a peer that says nothing.
  if (!s->stopping) {
    n = co_await conn.socket().async_read_some(
        buffer.prepare(512), asio::redirect_error(use_awaitable, ec));
  } else {
    ec = asio::error::operation_aborted;
  }
  if (s->abandoned) co_return;
  if (n > 0) {
    buffer.commit(n);
  } else if (!(s->stopping && ec == asio::error::operation_aborted)) {
    closed();
  }
  s->running = false;
  s->done.notify();
}

asio::awaitable<void> peer_watch::stop() {
  if (!state_->running) co_return;
  state_->stopping = true;
  boost::system::error_code ec;
  conn_.socket().cancel(ec);
  while (state_->running) co_await state_->done.wait();
}

// ---- responder ----------------------------------------------------------------------

void responder_impl::on_client_gone(std::function<void()> fn) {
  if (responded()) return;
  watch_.start([this, fn = std::move(fn)] {
    keep_alive_ = false;
    conn_.note_peer_closed();
    // Posted, not called: a callback that cancels upstream work must not run inside
    // the read that noticed the disconnect.
    asio::post(conn_.socket().get_executor(), fn);
  });
}

asio::awaitable<void> responder_impl::send(response r) {
  if (responded()) throw std::logic_error("a response was already sent for this request");
  co_await watch_.stop();
  status_ = r.status;
  bhttp::response<bhttp::string_body> msg{static_cast<bhttp::status>(r.status), version_};
  if (!r.content_type.empty()) msg.set(bhttp::field::content_type, r.content_type);
  if (!request_id_.empty()) msg.set("X-Request-Id", request_id_);
  for (const auto& h : r.headers) {
    if (beast::iequals(h.name, "Connection") && beast::iequals(h.value, "close")) keep_alive_ = false;
    else msg.set(h.name, h.value);
  }
  msg.body() = std::move(r.body);
  msg.keep_alive(keep_alive_);
  msg.prepare_payload();
  if (!co_await conn_.write_message(msg)) keep_alive_ = false;
}

asio::awaitable<std::reference_wrapper<sse_writer>> responder_impl::start_sse(sse_options options) {
  if (responded()) throw std::logic_error("a response was already sent for this request");
  co_await watch_.stop();
  status_ = 200;
  for (const auto& h : options.headers) {
    if (beast::iequals(h.name, "Connection") && beast::iequals(h.value, "close")) keep_alive_ = false;
  }
  if (!request_id_.empty()) options.headers.push_back({"X-Request-Id", request_id_});
  sse_ = std::make_unique<sse_writer_impl>(conn_, std::move(options));
  // HTTP/1.0 has no chunked encoding: the stream then ends by closing the connection.
  if (version_ < 11) keep_alive_ = false;
  if (!co_await sse_->start(version_, keep_alive_)) keep_alive_ = false;
  co_return std::ref(static_cast<sse_writer&>(*sse_));
}

// ---- SSE writer ---------------------------------------------------------------------

sse_writer_impl::sse_writer_impl(connection& conn, sse_options options)
    : conn_(conn),
      options_(std::move(options)),
      progress_(conn.socket().get_executor()),
      heartbeat_done_(conn.socket().get_executor()),
      heartbeat_timer_(conn.socket().get_executor()),
      watch_(conn) {}

asio::awaitable<bool> sse_writer_impl::start(unsigned version, bool keep_alive) {
  chunked_ = version >= 11;
  bhttp::response<bhttp::empty_body> head{bhttp::status::ok, version};
  head.set(bhttp::field::content_type, "text/event-stream");
  head.set(bhttp::field::cache_control, "no-cache");
  head.set("X-Accel-Buffering", "no");
  for (const auto& h : options_.headers) {
    if (!beast::iequals(h.name, "Connection")) head.set(h.name, h.value);
  }
  head.keep_alive(keep_alive);
  if (chunked_) head.chunked(true);
  bhttp::response_serializer<bhttp::empty_body> serializer{head};
  boost::system::error_code ec;
  conn_.arm(ms(conn_.cfg().write_timeout_ms));
  co_await bhttp::async_write_header(conn_.socket(), serializer, asio::redirect_error(use_awaitable, ec));
  conn_.disarm();
  if (ec) {
    mark_gone();
    co_return false;
  }
  last_write_ = clock::now();
  if (options_.heartbeat.count() > 0) {
    heartbeat_running_ = true;
    asio::co_spawn(conn_.socket().get_executor(), heartbeat(), asio::detached);
  }
  watch_.start([this] { mark_gone(); });
  co_return true;
}

void sse_writer_impl::mark_gone() {
  if (gone_) return;
  gone_ = true;
  conn_.note_peer_closed();
  // Posted, not called: a callback that cancels upstream work must not re-enter the
  // write that noticed the disconnect.
  const auto ex = conn_.socket().get_executor();
  for (auto& fn : gone_callbacks_) asio::post(ex, std::move(fn));
  gone_callbacks_.clear();
  progress_.notify();
}

void sse_writer_impl::on_client_gone(std::function<void()> fn) {
  if (finished_) return;
  if (gone_) {
    asio::post(conn_.socket().get_executor(), std::move(fn));
    return;
  }
  gone_callbacks_.push_back(std::move(fn));
}

asio::awaitable<bool> sse_writer_impl::write(std::string frame) {
  if (gone_ || finished_) co_return false;
  queued_bytes_ += frame.size();
  queue_.push_back(std::move(frame));
  if (!writing_) {
    co_await drain();
  } else {
    while (queued_bytes_ > conn_.cfg().sse_queue_bytes && !gone_) co_await progress_.wait();
  }
  co_return !gone_;
}

// Writes everything queued, batching frames that piled up during the previous write.
asio::awaitable<void> sse_writer_impl::drain() {
  writing_ = true;
  while (!queue_.empty() && !gone_) {
    std::string batch;
    batch.reserve(queued_bytes_);
    for (auto& f : queue_) batch += f;
    queue_.clear();
    queued_bytes_ = 0;
    boost::system::error_code ec;
    conn_.arm(ms(conn_.cfg().write_timeout_ms));
    if (chunked_) {
      co_await asio::async_write(conn_.socket(), bhttp::make_chunk(asio::buffer(batch)),
                                 asio::redirect_error(use_awaitable, ec));
    } else {
      co_await asio::async_write(conn_.socket(), asio::buffer(batch),
                                 asio::redirect_error(use_awaitable, ec));
    }
    conn_.disarm();
    last_write_ = clock::now();
    if (ec) mark_gone();
    progress_.notify();
  }
  writing_ = false;
}

// SPEC 3.6: a comment line while the stream is idle keeps proxies from timing out and
// finds dead clients before the first token arrives.
asio::awaitable<void> sse_writer_impl::heartbeat() {
  while (!finished_ && !gone_) {
    heartbeat_timer_.expires_at(last_write_ + options_.heartbeat);
    boost::system::error_code ec;
    co_await heartbeat_timer_.async_wait(asio::redirect_error(use_awaitable, ec));
    if (finished_ || gone_) break;
    if (!writing_ && clock::now() - last_write_ >= options_.heartbeat) co_await write(": ping\n\n");
  }
  heartbeat_running_ = false;
  heartbeat_done_.notify();
}

asio::awaitable<void> sse_writer_impl::finish() {
  if (finished_) co_return;
  // The handler is done: nobody is left to notify.
  gone_callbacks_.clear();
  while (writing_) co_await progress_.wait();
  if (!queue_.empty() && !gone_) co_await drain();
  finished_ = true;
  heartbeat_timer_.cancel();
  co_await watch_.stop();
  while (heartbeat_running_) co_await heartbeat_done_.wait();
  if (gone_ || !chunked_) co_return;
  boost::system::error_code ec;
  conn_.arm(ms(conn_.cfg().write_timeout_ms));
  co_await asio::async_write(conn_.socket(), bhttp::make_chunk_last(),
                             asio::redirect_error(use_awaitable, ec));
  conn_.disarm();
  if (ec) gone_ = true;
}

asio::awaitable<void> serve_connection(local::socket socket, const server_state& srv) {
  connection conn(std::move(socket), srv);
  co_await conn.run();
}

void remove_stale_socket(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const auto status = fs::symlink_status(path, ec);
  if (ec || !fs::exists(status)) return;
  if (!fs::is_socket(status)) {
    throw std::runtime_error("server.socket: '" + path + "' exists and is not a socket");
  }
  asio::io_context probe_io;
  local::socket probe(probe_io);
  boost::system::error_code connect_ec;
  probe.connect(local::endpoint(path), connect_ec);
  if (!connect_ec) {
    throw std::runtime_error("server.socket: another process is listening on '" + path + "'");
  }
  fs::remove(path, ec);
  if (ec) throw std::runtime_error("server.socket: cannot remove stale '" + path + "': " + ec.message());
}

}  // namespace

class server::impl {
 public:
  impl(asio::io_context& io, const config::server_config& cfg, const router& routes,
       const edge::context_verifier& verifier)
      : io_(io), state_{cfg, routes, verifier}, acceptor_(io) {}

  void listen();
  void stop();

 private:
  asio::awaitable<void> accept_loop();

  asio::io_context& io_;
  server_state state_;
  local::acceptor acceptor_;
  bool listening_ = false;
};

void server::impl::listen() {
  const std::string& path = state_.cfg.socket;
  remove_stale_socket(path);
  boost::system::error_code ec;
  acceptor_.open(local(), ec);
  // The socket file appears at bind(); a tight umask keeps it private until chmod
  // below gives it the configured mode.
  const mode_t old_mask = ::umask(0177);
  if (!ec) acceptor_.bind(local::endpoint(path), ec);
  ::umask(old_mask);
  if (ec) throw std::runtime_error("server.socket: cannot bind '" + path + "': " + ec.message());
  if (::chmod(path.c_str(), state_.cfg.socket_mode) != 0) {
    throw std::runtime_error("server.socket: cannot chmod '" + path + "': " +
                             std::error_code(errno, std::generic_category()).message());
  }
  acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) throw std::runtime_error("server.socket: cannot listen on '" + path + "': " + ec.message());
  listening_ = true;
  asio::co_spawn(io_, accept_loop(), asio::detached);
}

void server::impl::stop() {
  if (!listening_) return;
  listening_ = false;
  // Closing from another thread than the loop's would race the pending accept.
  asio::post(io_, [this] {
    boost::system::error_code ec;
    acceptor_.close(ec);
  });
  std::error_code ec;
  std::filesystem::remove(state_.cfg.socket, ec);
}

asio::awaitable<void> server::impl::accept_loop() {
  asio::steady_timer backoff(io_);
  for (;;) {
    boost::system::error_code ec;
    local::socket socket = co_await acceptor_.async_accept(
        asio::make_strand(io_), asio::redirect_error(use_awaitable, ec));
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) co_return;
    if (ec) {
      // Out of descriptors and the like: back off instead of spinning.
      obs::error("accept_failed", {{"error", ec.message()}});
      backoff.expires_after(std::chrono::milliseconds(100));
      co_await backoff.async_wait(asio::redirect_error(use_awaitable, ec));
      continue;
    }
    const auto ex = socket.get_executor();
    asio::co_spawn(ex, serve_connection(std::move(socket), state_), asio::detached);
  }
}

server::server(asio::io_context& io, const config::server_config& cfg, const router& routes,
               const edge::context_verifier& verifier)
    : impl_(std::make_unique<impl>(io, cfg, routes, verifier)) {}

server::~server() = default;

void server::listen() { impl_->listen(); }

void server::stop() { impl_->stop(); }

}  // namespace parley::http
