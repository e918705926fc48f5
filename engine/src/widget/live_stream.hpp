#pragma once

// One widget answer as its event stream sends it (SPEC 4.1): SSE frames numbered
// 1, 2, 3, ... ("id: N"), kept in a bounded replay buffer so that a reconnect with
// Last-Event-ID resumes after the last frame it saw, with nothing lost or repeated.
// The generation writes; any number of subscribers read (usually one, but a
// reconnect may overlap the connection it replaces). With no subscriber the
// generation goes on for a grace period, then is cancelled (nobody pays for tokens
// nobody reads).
//
// Thread-safe: the generation and the subscribers run on strands of their own.

#include <utility>  // before Asio under g++ 12 / Boost 1.74

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace parley::widget {

class live_stream : public std::enable_shared_from_this<live_stream> {
 public:
  struct settings {
    std::size_t buffer_bytes = 256 * 1024;
    std::chrono::seconds grace{10};
  };

  // `ex`: the generation's strand, where the grace timer runs.
  live_stream(boost::asio::any_io_executor ex, std::string tenant_id, std::string session_id,
              settings s);

  const std::string& tenant_id() const noexcept { return tenant_id_; }
  const std::string& session_id() const noexcept { return session_id_; }

  // --- the generation's side
  // Starts the grace period for a subscriber that has not come yet.
  void start();
  // Appends "id: N\nevent: <event>\ndata: <data>\n\n" and wakes the subscribers.
  void push(std::string_view event, const nlohmann::json& data);
  // No event follows; the subscribers send what is left and end.
  void finish();
  // Runs once if the grace period passes with no subscriber before the end.
  void on_abandoned(std::function<void()> cancel);

  // --- a subscriber's side
  struct batch {
    std::vector<std::string> frames;  // those after the id asked for, in order
    std::uint64_t last_id = 0;        // of the last frame in `frames`, else the id asked for
    bool finished = false;            // and nothing follows `frames`
    bool gap = false;                 // frames after the id asked for were dropped from the buffer
  };
  batch read_after(std::uint64_t last_seen) const;

  // `wake` runs (on any thread) whenever a frame is pushed or the stream finishes,
  // until unsubscribe(); it must only schedule work, never block.
  std::uint64_t subscribe(std::function<void()> wake);
  void unsubscribe(std::uint64_t subscription);

 private:
  struct frame {
    std::uint64_t id;
    std::string text;
  };
  void wake_all(std::unique_lock<std::mutex>& lock);
  void arm_grace();

  boost::asio::any_io_executor ex_;
  const std::string tenant_id_;
  const std::string session_id_;
  const settings settings_;
  boost::asio::steady_timer grace_timer_;  // only touched on ex_

  mutable std::mutex mutex_;
  std::deque<frame> frames_;
  std::size_t buffered_bytes_ = 0;
  std::uint64_t next_id_ = 1;
  bool finished_ = false;
  std::map<std::uint64_t, std::function<void()>> subscribers_;
  std::uint64_t next_subscription_ = 1;
  std::function<void()> cancel_;
  bool abandoned_ = false;  // the grace period passed with nobody subscribed
};

}  // namespace parley::widget
