#pragma once

// The sse_writer of http/route.hpp on a connection: a bounded queue of frames written
// in batches as chunks, a heartbeat while the stream is idle, and a peer watch that
// notices a client hanging up between frames.

#include <utility>  // before Asio under g++ 12 / Boost 1.74

#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <deque>
#include <functional>
#include <string>
#include <vector>

#include "http/event.hpp"
#include "http/peer_watch.hpp"
#include "http/route.hpp"
#include "http/stats.hpp"

namespace parley::http {

class connection;

// The open SSE response of one request. Runs on the connection's strand.
class sse_writer_impl final : public sse_writer {
 public:
  sse_writer_impl(connection& conn, sse_options options);

  // Writes the response header. False when the client is gone already.
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
  gauge_hold open_;
  sse_options options_;
  std::deque<std::string> queue_;
  std::size_t queued_bytes_ = 0;
  bool chunked_ = true;
  bool writing_ = false;
  bool gone_ = false;
  bool finished_ = false;
  bool heartbeat_running_ = false;
  std::chrono::steady_clock::time_point last_write_ = std::chrono::steady_clock::now();
  std::vector<std::function<void()>> gone_callbacks_;
  event progress_;  // a write completed or the client went away
  event heartbeat_done_;
  asio::steady_timer heartbeat_timer_;
  peer_watch watch_;
};

}  // namespace parley::http
