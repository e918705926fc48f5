#pragma once

// What the tests of the streaming providers share: a one-connection HTTP upstream
// whose bytes each test scripts, and a run of one generation to its end on a loop
// like the engine's.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_future.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "llm/curl_multi.hpp"
#include "llm/provider.hpp"

namespace parley::llm::test_support {

// A one-connection HTTP server on 127.0.0.1 in a thread: reads one request, then
// lets the test's script write whatever bytes the scenario needs.
class fake_upstream {
 public:
  using script = std::function<void(int fd)>;

  explicit fake_upstream(script s) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(listen_fd_, 1);
    socklen_t len = sizeof addr;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this, s = std::move(s)] {
      const int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) return;
      request_ = read_request(fd);
      s(fd);
      ::close(fd);
    });
  }

  ~fake_upstream() {
    ::shutdown(listen_fd_, SHUT_RDWR);
    thread_.join();
    ::close(listen_fd_);
  }

  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/v1"; }
  const std::string& request() const { return request_; }  // valid after the exchange

  static void send_all(int fd, std::string_view bytes) {
    while (!bytes.empty()) {
      const auto n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return;
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
  }

  // A whole JSON answer, e.g. an error: `status` is "503 Service Unavailable".
  static void send_json(int fd, std::string_view status, std::string_view body) {
    send_all(fd, "HTTP/1.1 " + std::string(status) +
                     "\r\nContent-Type: application/json\r\nContent-Length: " +
                     std::to_string(body.size()) + "\r\n\r\n" + std::string(body));
  }

  static void send_stream_head(int fd) {
    send_all(fd, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n");
  }

 private:
  static std::string read_request(int fd) {
    std::string req;
    char buf[4096];
    std::size_t body_start = std::string::npos;
    std::size_t content_length = 0;
    for (;;) {
      const auto n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) return req;
      req.append(buf, static_cast<std::size_t>(n));
      if (body_start == std::string::npos) {
        const auto end = req.find("\r\n\r\n");
        if (end == std::string::npos) continue;
        body_start = end + 4;
        const auto cl = req.find("Content-Length: ");
        if (cl != std::string::npos) content_length = std::stoul(req.substr(cl + 16));
      }
      if (req.size() >= body_start + content_length) return req;
    }
  }

  int listen_fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::string request_;
};

struct outcome {
  std::vector<event> events;
  int empty_waits = 0;
};

using provider_factory = std::function<std::unique_ptr<provider>(curl_multi&)>;
using event_hook = std::function<void(generation&, std::size_t)>;

// Runs a generation of `make`'s provider to its end on a two-thread loop, consuming
// on a strand like a chat handler. `after_event` may cancel; `start_delay` holds the
// consumer back so that the queue fills.
inline outcome run_generation(
    const provider_factory& make, generation_request request, const event_hook& after_event = {},
    std::chrono::milliseconds start_delay = std::chrono::milliseconds(0)) {
  using namespace std::chrono_literals;
  asio::io_context io;
  curl_multi multi(io);
  const auto provider = make(multi);
  auto strand = asio::make_strand(io);
  auto f = asio::co_spawn(
      strand,
      [&]() -> asio::awaitable<outcome> {
        auto g = provider->start(std::move(request), co_await asio::this_coro::executor);
        if (start_delay > 0ms) {
          asio::steady_timer t(co_await asio::this_coro::executor, start_delay);
          co_await t.async_wait(asio::use_awaitable);
        }
        outcome out;
        for (;;) {
          auto e = co_await g->next(std::chrono::milliseconds(50));
          if (!e) {
            ++out.empty_waits;  // nothing yet: a handler would send a heartbeat here
            continue;
          }
          out.events.push_back(std::move(*e));
          if (!std::holds_alternative<token_event>(out.events.back())) break;
          if (after_event) after_event(*g, out.events.size());
        }
        co_return out;
      },
      asio::use_future);
  std::thread second([&] { io.run(); });
  io.run();
  second.join();
  return f.get();
}

inline std::string tokens_of(const outcome& o) {
  std::string text;
  for (const auto& e : o.events) {
    if (const auto* t = std::get_if<token_event>(&e)) text += t->text;
  }
  return text;
}

inline const error_event* error_of(const outcome& o) {
  return std::get_if<error_event>(&o.events.back());
}

// The generation ended normally, with `finish_reason` and the usage reported.
inline void expect_done(const outcome& o, std::string_view finish_reason,
                        std::int64_t prompt_tokens, std::int64_t completion_tokens) {
  ASSERT_FALSE(o.events.empty());
  const auto* done = std::get_if<done_event>(&o.events.back());
  ASSERT_NE(done, nullptr);
  EXPECT_EQ(done->finish_reason, finish_reason);
  ASSERT_TRUE(done->usage);
  EXPECT_EQ(done->usage->prompt_tokens, prompt_tokens);
  EXPECT_EQ(done->usage->completion_tokens, completion_tokens);
}

}  // namespace parley::llm::test_support
