#include "http/server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <system_error>

#include "http/connection.hpp"
#include "obs/log.hpp"

namespace parley::http {
namespace {

using local = asio::local::stream_protocol;
using asio::use_awaitable;

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
  if (ec)
    throw std::runtime_error("server.socket: cannot remove stale '" + path + "': " + ec.message());
}

}  // namespace

class server::impl {
 public:
  impl(asio::io_context& io, const config::server_config& cfg, const router& routes,
       const edge::context_verifier& verifier, http::stats& stats)
      : io_(io), state_{cfg, routes, verifier, stats}, acceptor_(io) {}

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
    throw std::runtime_error("server.socket: cannot chmod '" + path +
                             "': " + std::error_code(errno, std::generic_category()).message());
  }
  acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    throw std::runtime_error("server.socket: cannot listen on '" + path + "': " + ec.message());
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
    local::socket socket = co_await acceptor_.async_accept(asio::make_strand(io_),
                                                           asio::redirect_error(use_awaitable, ec));
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
               const edge::context_verifier& verifier, http::stats& stats)
    : impl_(std::make_unique<impl>(io, cfg, routes, verifier, stats)) {}

server::~server() = default;

void server::listen() { impl_->listen(); }

void server::stop() { impl_->stop(); }

}  // namespace parley::http
