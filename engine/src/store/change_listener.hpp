#pragma once

// LISTEN on a dedicated PostgreSQL connection: each NOTIFY on the channel calls
// on_change(payload). What the notifications invalidate may only be trusted while
// on_live(true) holds: a lost connection calls on_live(false) at once, and the
// listener reconnects (backing off up to 5 s) and calls on_live(true) again only once
// it listens, so no change made meanwhile goes unseen by a cache that starts afresh.
// A TCP peer gone silent is found by keepalives within about 11 s: the longest a
// change can stay unseen.
//
// The connection waits in poll() on a thread of its own: a notification costs the
// engine's loop threads nothing, and stopping wakes the thread through an eventfd.

#include <functional>
#include <string>
#include <string_view>
#include <thread>

namespace parley::store {

class change_listener {
 public:
  struct handlers {
    std::function<void(std::string_view payload)> on_change;
    std::function<void(bool live)> on_live;
  };

  // Starts listening on `channel` (an SQL identifier: letters, digits, '_').
  change_listener(std::string dsn, std::string channel, handlers h);
  ~change_listener();
  change_listener(const change_listener&) = delete;
  change_listener& operator=(const change_listener&) = delete;

 private:
  void run(const std::stop_token& stop);
  // Connects, listens and delivers notifications until the connection fails or stop
  // is requested. Throws db_error on a failure.
  void listen_once(const std::stop_token& stop);
  // False when stop was requested during the wait.
  bool pause(std::chrono::milliseconds delay);

  std::string dsn_;
  std::string channel_;
  handlers handlers_;
  int wake_fd_;
  std::jthread thread_;
};

}  // namespace parley::store
