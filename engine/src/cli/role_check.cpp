#include "cli/role_check.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

#include "cli/output.hpp"
#include "obs/log.hpp"
#include "store/db.hpp"

namespace parley::cli {

namespace asio = boost::asio;

void refuse_privileged_role(store::database& db) {
  db.with_platform([](store::transaction& tx) {
    const auto r = tx.exec(R"sql(
      SELECT r.rolsuper OR r.rolbypassrls AS bypasses,
             EXISTS (SELECT 1 FROM pg_tables
                      WHERE schemaname = 'public' AND tableowner = current_user) AS owns
        FROM pg_roles r WHERE r.rolname = current_user)sql");
    // No row for the current role cannot happen; if it did, nothing would be proven.
    if (r.empty() || r.boolean(0, "bypasses") || r.boolean(0, "owns")) {
      throw command_error("unsafe_database_role",
                          "database.dsn connects as a role that is superuser, has BYPASSRLS or "
                          "owns the tables; serve needs the unprivileged engine role (parley_app)");
    }
  });
}

asio::awaitable<void> retry_role_check(store::database& db, retry_backoff backoff,
                                       std::function<void()> passed,
                                       std::function<void(std::exception_ptr)> refused) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  auto wait = backoff.first;
  for (int attempt = 2;; ++attempt) {
    timer.expires_after(wait);
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;  // shutting down
    try {
      auto check = [&db] { refuse_privileged_role(db); };
      co_await db.async(std::move(check));
      obs::info("database_role_checked", {{"attempt", attempt}});
      passed();
      co_return;
    } catch (const command_error& e) {
      obs::error(e.code(), {{"error", e.what()}, {"attempt", attempt}});
      refused(std::current_exception());
      co_return;
    } catch (const store::db_error& e) {
      wait = std::min(wait * 2, backoff.max);
      obs::warn("database_unavailable", {{"check", "database_role"},
                                         {"error", e.what()},
                                         {"attempt", attempt},
                                         {"retry_in_ms", wait.count()}});
    }
  }
}

}  // namespace parley::cli
