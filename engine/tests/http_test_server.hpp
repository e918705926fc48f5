#pragma once

// What the socket tests of http/ share: a server on a temporary Unix socket run by
// its own thread, a blocking client that fails instead of hanging, signed contexts.

#include <gtest/gtest.h>

#include <utility>

#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <sys/socket.h>
#include <sys/time.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "base/clock.hpp"
#include "edge/context.hpp"
#include "http/router.hpp"
#include "http/server.hpp"

namespace parley::http::test {

namespace asio = boost::asio;
using local = asio::local::stream_protocol;
using namespace std::chrono_literals;

inline const std::string secret = "server-test-edge-secret-0123456789abcdef";
inline const std::string tenant = "3f1c2a9e-8b7d-4e21-9c3a-5d6e7f809a1b";

inline std::string context(edge::principal_kind kind = edge::principal_kind::key) {
  edge::identity id;
  id.tenant_id = tenant;
  id.kind = kind;
  id.principal_id = "key-1";
  id.request_id = "req-1";
  id.signed_at_ms = base::unix_millis();
  return edge::sign_context(secret, id);
}

inline asio::awaitable<void> sleep_for(std::chrono::milliseconds d) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  boost::system::error_code ec;
  co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

inline std::string get(const std::string& path, const std::string& ctx) {
  std::string raw = "GET " + path + " HTTP/1.1\r\nHost: engine\r\n";
  if (!ctx.empty()) raw += "X-Parley-Context: " + ctx + "\r\n";
  return raw + "\r\n";
}

// Polls for up to 3 s.
inline bool eventually(const std::atomic<bool>& flag) {
  for (int i = 0; i < 300 && !flag; ++i) std::this_thread::sleep_for(10ms);
  return flag;
}

// A blocking client with a receive timeout, so a server bug fails instead of hanging.
class client {
 public:
  explicit client(const std::string& path) : socket_(io_) {
    socket_.connect(local::endpoint(path));
    timeval tv{5, 0};
    ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }

  void send(const std::string& raw) { asio::write(socket_, asio::buffer(raw)); }

  // Reads until `marker` has arrived; returns everything read so far.
  std::string read_until(const std::string& marker) {
    boost::system::error_code ec;
    asio::read_until(socket_, asio::dynamic_buffer(buffer_), marker, ec);
    return buffer_;
  }

  // Reads until the server closes the connection (or the receive timeout passes);
  // returns everything read so far and whether it was the server closing.
  std::pair<std::string, bool> read_to_end() {
    for (;;) {
      char chunk[65536];
      boost::system::error_code ec;
      const auto n = socket_.read_some(asio::buffer(chunk), ec);
      buffer_.append(chunk, n);
      if (ec) return {buffer_, ec == asio::error::eof || ec == asio::error::connection_reset};
    }
  }

  // One response with a Content-Length body; consumes it from the buffer.
  std::string response() {
    read_until("\r\n\r\n");
    const auto head_end = buffer_.find("\r\n\r\n");
    if (head_end == std::string::npos) return std::exchange(buffer_, {});
    const auto cl = buffer_.find("Content-Length: ");
    const std::size_t length = cl < head_end ? std::stoul(buffer_.substr(cl + 16)) : 0;
    while (buffer_.size() < head_end + 4 + length) {
      char chunk[4096];
      boost::system::error_code ec;
      const auto n = socket_.read_some(asio::buffer(chunk), ec);
      if (ec) break;
      buffer_.append(chunk, n);
    }
    auto out = buffer_.substr(0, head_end + 4 + length);
    buffer_.erase(0, out.size());
    return out;
  }

  void close() { socket_.close(); }

 private:
  asio::io_context io_;
  local::socket socket_;
  std::string buffer_;
};

// A server on a fresh socket for each test. Derived fixtures register their routes
// in add_routes() and may change cfg_ in their constructor.
class server_test : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/parley-http-test-XXXXXX";
    dir_ = ::mkdtemp(dir);
    cfg_.socket = dir_ + "/engine.sock";
    add_routes();
    server_ = std::make_unique<server>(io_, cfg_, routes_, verifier_, stats_);
    server_->listen();
    thread_ = std::thread([this] { io_.run(); });
  }

  void TearDown() override {
    server_->stop();
    io_.stop();
    thread_.join();
    std::filesystem::remove_all(dir_);
  }

  virtual void add_routes() = 0;

  std::string dir_;
  config::server_config cfg_;
  router routes_;
  edge::context_verifier verifier_{secret, {}};
  http::stats stats_;
  asio::io_context io_;
  std::unique_ptr<server> server_;
  std::thread thread_;
};

}  // namespace parley::http::test
