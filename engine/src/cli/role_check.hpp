#pragma once

// serve's start-up check, fail closed. RLS is the second wall between tenants; a
// role that bypasses it (superuser, BYPASSRLS, or the tables' owner) would silently
// remove that wall, so serve refuses to run with one. The check needs the database:
// serve asks once before it opens its socket; when the database cannot be reached
// then, it opens the socket anyway (/healthz answers, /readyz and every tenant route
// say 503 not_ready) and keeps asking with a backoff. An unsafe role ends the
// process with a non-zero status whenever it is found.

#include <utility>  // before Asio under g++ 12 / Boost 1.74

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <exception>
#include <functional>

namespace parley::store {
class database;
}

namespace parley::cli {

// Throws command_error "unsafe_database_role" for a role that bypasses RLS, and
// store::db_error when the database cannot be asked.
void refuse_privileged_role(store::database& db);

struct retry_backoff {
  std::chrono::milliseconds first{250};
  std::chrono::milliseconds max{5000};
};

// Asks again after each failure to reach the database (logged, waiting `backoff`,
// doubled each time up to its max) until the check passes, then runs `passed`; or
// finds the role unsafe, then runs `refused` with that error. Both run on the
// coroutine's executor.
boost::asio::awaitable<void> retry_role_check(store::database& db, retry_backoff backoff,
                                              std::function<void()> passed,
                                              std::function<void(std::exception_ptr)> refused);

}  // namespace parley::cli
