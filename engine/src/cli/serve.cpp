#include <utility>  // before Asio under g++ 12 / Boost 1.74

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <chrono>
#include <csignal>
#include <thread>
#include <vector>

#include "admin/routes.hpp"
#include "api/chat_completions.hpp"
#include "api/models.hpp"
#include "api/ops.hpp"
#include "chat/pipeline.hpp"
#include "cli/command.hpp"
#include "config/config.hpp"
#include "edge/context.hpp"
#include "api/introspect.hpp"
#include "http/server.hpp"
#include "obs/log.hpp"
#include "store/db.hpp"
#include "store/migrations.hpp"
#include "widget/routes.hpp"
#include "widget/signing_key.hpp"

namespace parley::cli {
namespace {

namespace asio = boost::asio;

// RLS is the second wall between tenants; a role that bypasses it (superuser,
// BYPASSRLS, or the tables' owner without FORCE) would silently remove that wall.
void refuse_privileged_role(store::database& db) {
  try {
    db.with_platform([](store::transaction& tx) {
      const auto r = tx.exec(R"sql(
        SELECT r.rolsuper OR r.rolbypassrls AS bypasses,
               EXISTS (SELECT 1 FROM pg_tables
                        WHERE schemaname = 'public' AND tableowner = current_user) AS owns
          FROM pg_roles r WHERE r.rolname = current_user)sql");
      if (r.empty()) return;
      if (r.boolean(0, "bypasses") || r.boolean(0, "owns")) {
        throw command_error("unsafe_database_role",
                            "database.dsn connects as a role that is superuser, has BYPASSRLS or "
                            "owns the tables; serve needs the unprivileged engine role (parley_app)");
      }
    });
  } catch (const store::db_error& e) {
    // Not reachable yet: serve anyway, /readyz reports it until the database is back.
    obs::warn("database_unavailable", {{"error", e.what()}});
  }
}

// SIGHUP re-reads the widget key ring (a rotation's last step); a ring with problems
// is refused and the key in use stays.
void reload_widget_keys(widget::signing_key& signer, const std::string& keys_file) {
  if (keys_file.empty()) {
    obs::info("reload", {{"widget", "off"}});
    return;
  }
  const auto ring = config::read_key_ring(keys_file);
  if (!ring.problems.empty()) {
    obs::error("widget_keys_reload_failed", {{"problems", ring.problems}, {"kid", signer.current()->kid}});
    return;
  }
  signer.replace(ring.keys);
  obs::info("widget_keys_reloaded", {{"kid", signer.current()->kid}});
}

void on_hangup(asio::signal_set& hangups, widget::signing_key& signer, const std::string& keys_file) {
  hangups.async_wait([&hangups, &signer, &keys_file](const boost::system::error_code& ec, int) {
    if (ec) return;
    reload_widget_keys(signer, keys_file);
    on_hangup(hangups, signer, keys_file);
  });
}

}  // namespace

int serve(const invocation& inv) {
  inv.opts.allow_only({"config", "json"});
  config::secrets secrets;
  const auto cfg = load_config(inv, &secrets);
  std::signal(SIGPIPE, SIG_IGN);

  // Declared before the database so it is destroyed after it: the database joins its
  // threads first, and their last results may still be posted to this context.
  asio::io_context io(static_cast<int>(cfg.server.threads));
  store::database db(cfg.database.dsn, cfg.database.pool_size);
  refuse_privileged_role(db);
  const edge::context_verifier verifier(
      secrets.edge_secret, {cfg.edge.context_max_age_ms, cfg.edge.context_max_skew_ms});

  http::router routes;
  api::add_ops_routes(routes, db);
  api::add_introspection_route(routes, db, cfg.edge);
  api::add_models_routes(routes, db);
  const auto signer = std::make_shared<widget::signing_key>(secrets.widget_keys);
  widget::add_widget_routes(routes, db, widget::make_settings(cfg.widget, signer));
  admin::add_admin_routes(routes, db);
  chat::pipeline chat(io, db, cfg, secrets);
  api::add_chat_completions_route(routes, chat, std::chrono::milliseconds(cfg.llm.heartbeat_ms));

  http::server server(io, cfg.server, routes, verifier);
  server.listen();

  asio::signal_set hangups(io, SIGHUP);
  on_hangup(hangups, *signer, cfg.widget.keys_file);

  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    obs::info("shutdown", {{"signal", signal}});
    server.stop();
    hangups.cancel();
    io.stop();
  });

  obs::info("listening", {{"socket", cfg.server.socket},
                          {"threads", cfg.server.threads},
                          {"schema_version", store::latest_migration_version()},
                          {"llm_provider", cfg.llm.provider},
                          {"widget", secrets.widget_keys.empty() ? "off" : "on"},
                          {"widget_kid", secrets.widget_keys.empty() ? "" : secrets.widget_keys.back().kid}});
  std::vector<std::thread> threads;
  for (unsigned i = 1; i < cfg.server.threads; ++i) threads.emplace_back([&io] { io.run(); });
  io.run();
  for (auto& t : threads) t.join();
  inv.out.result({{"status", "stopped"}}, "");
  return 0;
}

}  // namespace parley::cli
