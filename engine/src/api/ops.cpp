#include "api/ops.hpp"

#include "http/api_error.hpp"
#include "obs/log.hpp"
#include "store/db.hpp"
#include "store/migrations.hpp"

namespace parley::api {

namespace asio = boost::asio;

void add_ops_routes(http::router& routes, store::database& db, const http::readiness& ready) {
  routes.add_public("GET", "/healthz",
                    [](http::request&, http::responder& res) -> asio::awaitable<void> {
                      // Built before co_await: g++ 12 miscompiles braced lists inside co_await
                      // expressions.
                      auto ok = http::response::json({{"status", "ok"}});
                      co_await res.send(std::move(ok));
                    });

  routes.add_public(
      "GET", "/readyz",
      [&db, &ready](http::request&, http::responder& res) -> asio::awaitable<void> {
        if (!ready.ready()) {
          throw http::api_error::unavailable(
              "not_ready", "start-up checks have not passed yet (see the engine's log)");
        }
        const int wanted = store::latest_migration_version();
        int current = 0;
        std::string problem;
        try {
          current = co_await db.async([&db] { return store::applied_version(db); });
          if (current != wanted) {
            problem = "database schema is at version " + std::to_string(current) +
                      ", this engine needs " + std::to_string(wanted) + " (run parley migrate)";
          }
        } catch (const std::exception& e) {
          problem = "database unreachable";
          obs::warn("readyz_failed", {{"error", e.what()}});
        }
        if (!problem.empty()) throw http::api_error::unavailable("not_ready", problem);
        auto ready = http::response::json({{"status", "ready"}, {"schema_version", current}});
        co_await res.send(std::move(ready));
      });
}

}  // namespace parley::api
