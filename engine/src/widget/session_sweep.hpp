#pragma once

// Every widget bootstrap writes a sessions row, and most visitors never send a
// message: without a sweep, anonymous bootstraps would grow `sessions` without
// bound. serve runs one when it becomes ready and then every
// widget.session_sweep_interval_s; it deletes the widget sessions that never
// received a message and have been idle widget.idle_session_ttl_s.
//
// The engine's role has no BYPASSRLS, so the sweep works tenant by tenant, each
// batch in its own tenant transaction, like every other write. Bounded: at most
// `batch` rows per statement and `max_batches` statements per tenant and round;
// what is left waits for the next round.

#include <utility>  // before Asio under g++ 12 / Boost 1.74

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <chrono>
#include <cstdint>

namespace parley::store {
class database;
}

namespace parley::widget {

namespace asio = boost::asio;

struct sweep_settings {
  std::int64_t idle_ttl_s = 86400;
  std::chrono::seconds interval{300};
  std::int64_t batch = 500;
  int max_batches = 20;
};

// One round, blocking (run it on a DB thread): returns how many sessions it deleted.
std::int64_t sweep_idle_widget_sessions(store::database& db, const sweep_settings& s);

class session_sweeper {
 public:
  // `db` must outlive the sweeper.
  session_sweeper(asio::io_context& io, store::database& db, sweep_settings s);
  session_sweeper(const session_sweeper&) = delete;
  session_sweeper& operator=(const session_sweeper&) = delete;

  // A round now, then one every interval, until stop(). Call once.
  void start();
  void stop();

 private:
  asio::awaitable<void> run();
  asio::awaitable<void> round();

  store::database& db_;
  sweep_settings settings_;
  asio::strand<asio::io_context::executor_type> strand_;
  asio::steady_timer timer_;  // used on strand_ only
  bool stopped_ = false;      // likewise
};

}  // namespace parley::widget
