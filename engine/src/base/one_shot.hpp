#pragma once

// A result that many coroutines can await while one of them produces it: each
// waiter resumes on its own executor once the value (or an exception) is set, and
// holds nothing meanwhile. Set it exactly once.
//
// Used where concurrent requests need the same expensive thing (a tenant's index):
// one builds, the others wait without a database connection or a blocked thread.

#include <utility>  // before Asio under g++ 12 / Boost 1.74

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/execution.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace parley::base {

namespace asio = boost::asio;

template <class T>
class one_shot {
 public:
  void set_value(T value) { resolve(std::move(value), nullptr); }
  void set_exception(std::exception_ptr error) { resolve(std::nullopt, std::move(error)); }

  // The value, or the exception rethrown; resumes at once when already set.
  asio::awaitable<T> wait() {
    auto initiate = [this](auto handler) {
      auto home = asio::prefer(asio::get_associated_executor(handler),
                               asio::execution::outstanding_work.tracked);
      auto shared = std::make_shared<decltype(handler)>(std::move(handler));
      std::function<void()> resume = [home, shared] {
        asio::post(home, [shared] { std::move (*shared)(); });
      };
      std::unique_lock lock(mutex_);
      if (!set_) {
        waiters_.push_back(std::move(resume));
        return;
      }
      lock.unlock();
      resume();
    };
    co_await asio::async_initiate<const asio::use_awaitable_t<>&, void()>(std::move(initiate),
                                                                          asio::use_awaitable);
    std::lock_guard lock(mutex_);
    if (error_) std::rethrow_exception(error_);
    co_return *value_;
  }

 private:
  void resolve(std::optional<T> value, std::exception_ptr error) {
    std::vector<std::function<void()>> waiters;
    {
      std::lock_guard lock(mutex_);
      value_ = std::move(value);
      error_ = std::move(error);
      set_ = true;
      waiters.swap(waiters_);
    }
    for (auto& resume : waiters) resume();
  }

  std::mutex mutex_;
  bool set_ = false;
  std::optional<T> value_;
  std::exception_ptr error_;
  std::vector<std::function<void()>> waiters_;
};

}  // namespace parley::base
