#pragma once

// One accepted connection: reads a request, answers it through the router and the
// one error wrapper, and keeps the connection alive for the next. Internal to http/:
// the responder, the SSE writer and the peer watch read, write and wait through it.
//
// Timeouts are Beast's stream timers. Each read or write sets its own deadline with
// expires_after() just before it starts (the setting applies to the next operation of
// each direction not already pending); past it the stream closes and the operation
// fails with beast::error::timeout. The peer watch's wait on the socket is no Beast
// operation and has none: it may last as long as a handler works or a stream is
// open, while writes run under their own timer.

#include <utility>  // before Asio under g++ 12 / Boost 1.74

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/beast/core/basic_stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

#include "config/config.hpp"
#include "edge/context.hpp"
#include "http/route.hpp"
#include "http/router.hpp"
#include "http/stats.hpp"

namespace parley::http {

// What every connection reads; owned by the server.
struct server_state {
  const config::server_config& cfg;
  const router& routes;
  const edge::context_verifier& verifier;
  http::stats& stats;
};

class responder_impl;

class connection {
 public:
  using stream_type =
      boost::beast::basic_stream<asio::local::stream_protocol, asio::any_io_executor>;

  connection(asio::local::stream_protocol::socket socket, const server_state& srv)
      : stream_(std::move(socket)), srv_(srv), open_(srv.stats.connections_open), id_(++accepted) {}

  // Serves requests until the peer closes, a timeout passes or a request cannot be
  // answered on this connection; then closes it.
  asio::awaitable<void> run();

  stream_type& stream() noexcept { return stream_; }
  boost::beast::flat_buffer& buffer() noexcept { return buffer_; }
  const config::server_config& cfg() const noexcept { return srv_.cfg; }
  http::stats& stats() const noexcept { return srv_.stats; }
  void note_peer_closed() noexcept { peer_closed_ = true; }

  // The next write must be done within server.write_timeout_ms.
  void arm_write_timeout() {
    stream_.expires_after(std::chrono::milliseconds(cfg().write_timeout_ms));
  }

 private:
  asio::awaitable<bool> serve_one();
  asio::awaitable<void> answer(request& req, const std::string& query, responder_impl& res);

  stream_type stream_;
  const server_state& srv_;
  gauge_hold open_;
  boost::beast::flat_buffer buffer_;
  bool peer_closed_ = false;
  // In the request log: which requests shared a connection (nginx keeps them alive).
  std::uint64_t id_;
  static inline std::atomic<std::uint64_t> accepted{0};
};

}  // namespace parley::http
