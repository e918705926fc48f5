#pragma once

// Runs blocking work (a libpq call, building an index) on a thread pool and resumes
// the awaiting coroutine on its own executor with the result or the exception, so
// that an Asio loop thread never blocks.
//
//   auto index = co_await base::offload(builders, [&] { return build(corpus); });
//
// g++ 12 pitfall: name a lambda with non-trivial captures before co_await instead
// of writing it inside the co_await expression (it would be destroyed twice).

#include <utility>  // before Asio under g++ 12 / Boost 1.74

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/execution.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <exception>
#include <optional>
#include <type_traits>

namespace parley::base {

namespace asio = boost::asio;

template <class F>
auto offload(asio::thread_pool& pool, F fn) -> asio::awaitable<std::invoke_result_t<F&>> {
  using R = std::invoke_result_t<F&>;
  using value = std::conditional_t<std::is_void_v<R>, bool, R>;
  auto initiate = [&pool, &fn](auto handler) {
    // Keep the caller's executor alive (io_context::run must not return) until the
    // result is posted back to it.
    auto home = asio::prefer(asio::get_associated_executor(handler),
                             asio::execution::outstanding_work.tracked);
    asio::post(
        pool, [fn = std::move(fn), handler = std::move(handler), home = std::move(home)]() mutable {
          std::exception_ptr error;
          std::optional<value> out;
          try {
            if constexpr (std::is_void_v<R>) {
              fn();
              out.emplace(true);
            } else {
              out.emplace(fn());
            }
          } catch (...) {
            error = std::current_exception();
          }
          asio::post(home, [handler = std::move(handler), error, out = std::move(out)]() mutable {
            handler(error, std::move(out));
          });
        });
  };
  auto out = co_await asio::async_initiate<const asio::use_awaitable_t<>&,
                                           void(std::exception_ptr, std::optional<value>)>(
      std::move(initiate), asio::use_awaitable);
  if constexpr (!std::is_void_v<R>) co_return std::move(*out);
}

}  // namespace parley::base
