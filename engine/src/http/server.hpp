#pragma once

// The engine's HTTP/1.1 server on a Unix socket: binds it, accepts, and gives each
// connection its coroutine (http/connection.hpp: keep-alive, bounded bodies,
// read/write timeouts, routing through the router and one error wrapper). Beast
// stays inside http/.

#include <utility>  // before Asio under g++ 12 / Boost 1.74

#include <boost/asio/io_context.hpp>

#include <memory>

#include "config/config.hpp"
#include "edge/context.hpp"
#include "http/router.hpp"
#include "http/stats.hpp"

namespace parley::http {

class server {
 public:
  // `routes`, `verifier` and `stats` must outlive the server.
  server(asio::io_context& io, const config::server_config& cfg, const router& routes,
         const edge::context_verifier& verifier, http::stats& stats);
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  // Binds cfg.socket (replacing a stale socket file, refusing if another process
  // still listens), applies cfg.socket_mode and starts accepting. Throws
  // std::runtime_error with an operator-readable message.
  void listen();

  // Stops accepting and removes the socket file; open connections are left to finish.
  void stop();

 private:
  class impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace parley::http
