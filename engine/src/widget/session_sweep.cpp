#include "widget/session_sweep.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <string>
#include <vector>

#include "obs/log.hpp"
#include "store/db.hpp"
#include "store/tenant_repo.hpp"
#include "store/widget_repo.hpp"

namespace parley::widget {

std::int64_t sweep_idle_widget_sessions(store::database& db, const sweep_settings& s) {
  // Inactive tenants too: their sessions age like any other.
  const auto tenants =
      db.with_platform([](store::transaction& tx) { return store::list_tenants(tx); });
  std::int64_t deleted = 0;
  for (const auto& t : tenants) {
    for (int i = 0; i < s.max_batches; ++i) {
      const auto n = db.with_tenant(t.id, [&](store::transaction& tx) {
        return store::delete_idle_widget_sessions(tx, t.id, s.idle_ttl_s, s.batch);
      });
      deleted += n;
      if (n < s.batch) break;
    }
  }
  return deleted;
}

session_sweeper::session_sweeper(asio::io_context& io, store::database& db, sweep_settings s)
    : db_(db), settings_(s), strand_(asio::make_strand(io)), timer_(strand_) {}

void session_sweeper::start() { asio::co_spawn(strand_, run(), asio::detached); }

void session_sweeper::stop() {
  asio::post(strand_, [this] {
    stopped_ = true;
    timer_.cancel();
  });
}

asio::awaitable<void> session_sweeper::run() {
  while (!stopped_) {
    co_await round();
    timer_.expires_after(settings_.interval);
    boost::system::error_code ec;
    co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

asio::awaitable<void> session_sweeper::round() {
  // By value: the job runs on a DB thread and must not reach back into this object.
  auto job = [&db = db_, s = settings_] { return sweep_idle_widget_sessions(db, s); };
  try {
    const auto deleted = co_await db_.async(std::move(job));
    if (deleted > 0) {
      obs::info("widget_sessions_swept",
                {{"deleted", deleted}, {"idle_session_ttl_s", settings_.idle_ttl_s}});
    }
  } catch (const std::exception& e) {
    // The database may be away for a while: the next round tries again.
    obs::warn("widget_session_sweep_failed", {{"error", e.what()}});
  }
}

}  // namespace parley::widget
