#pragma once

// Wakes every coroutine waiting on it: a timer that never expires on its own. The
// SSE writer and the peer watch use it to wait for "a write completed" or "the watch
// ended" without polling.

#include <utility>  // before Asio under g++ 12 / Boost 1.74

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace parley::http {

class event {
 public:
  explicit event(const boost::asio::any_io_executor& ex)
      : timer_(ex, boost::asio::steady_timer::time_point::max()) {}

  boost::asio::awaitable<void> wait() {
    boost::system::error_code ec;
    co_await timer_.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
  }

  void notify() { timer_.cancel(); }

 private:
  boost::asio::steady_timer timer_;
};

}  // namespace parley::http
