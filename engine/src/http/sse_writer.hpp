#pragma once

// The sse_writer of http/route.hpp on a connection: a bounded queue of frames written
// in batches as chunks, a heartbeat while the stream is idle, and a peer watch that
// notices a client hanging up between frames.
//
// Writes are posted, not made in write() itself: whatever is queued in the same turn
// of the loop goes out in one write. So the response header, the first chunk and the
// first token reach nginx together, as do the last frames and the end of the body:
// fewer system calls and fewer wake-ups of nginx for each stream.

#include <utility>  // before Asio under g++ 12 / Boost 1.74

#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "http/event.hpp"
#include "http/route.hpp"
#include "http/stats.hpp"

namespace parley::http {

class connection;
class peer_watch;

// The open SSE response of one request. Runs on the connection's strand.
class sse_writer_impl final : public sse_writer {
 public:
  // A ": ping\n\n" comment is written after `heartbeat` without any frame; zero: never.
  // `watch` (stopped; the responder's) must outlive the writer.
  sse_writer_impl(connection& conn, peer_watch& watch, std::chrono::milliseconds heartbeat);

  // Queues the response header, with `headers` besides its own, to be sent with the
  // frames of this turn, and starts the heartbeat and the peer watch.
  void start(unsigned version, bool keep_alive, const std::vector<header_field>& headers);

  asio::awaitable<bool> write(std::string frame) override;
  bool client_gone() const noexcept override { return gone_; }
  void on_client_gone(std::function<void()> fn) override;
  asio::awaitable<void> finish() override;

 private:
  // Posts a write of what is queued, unless one is under way.
  void kick();
  // One write: the header if it is not out yet, the queued frames as one chunk, and
  // the end of the body once finish() asked for it.
  void write_batch();
  void on_written(const boost::system::error_code& ec);
  bool has_unsent() const noexcept;
  void arm_heartbeat();
  void on_heartbeat_due();
  void mark_gone();

  connection& conn_;
  gauge_hold open_;
  std::chrono::milliseconds heartbeat_;
  std::string head_;        // the response header, until it is written
  std::string pending_;     // frames queued since the last write began
  std::string batch_;       // the frames of the write under way
  std::string chunk_line_;  // its chunk-size line
  bool chunked_ = true;
  bool writing_ = false;  // a write is posted or under way
  bool gone_ = false;
  bool finished_ = false;
  bool end_wanted_ = false;  // finish() asked for the end of the chunked body
  bool end_sent_ = false;
  bool heartbeat_running_ = false;
  std::chrono::steady_clock::time_point last_write_ = std::chrono::steady_clock::now();
  std::vector<std::function<void()>> gone_callbacks_;
  event progress_;  // a write completed, the client went away or the heartbeat stopped
  asio::steady_timer heartbeat_timer_;
  peer_watch& watch_;
};

}  // namespace parley::http
