#include <utility>  // before Asio under g++ 12 / Boost 1.74

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <chrono>
#include <malloc.h>
#include <sys/resource.h>

#include <csignal>
#include <exception>
#include <functional>
#include <thread>
#include <vector>

#include "admin/credentials.hpp"
#include "admin/routes.hpp"
#include "base/sealed_box.hpp"
#include "cli/admin_session.hpp"
#include "api/chat_completions.hpp"
#include "api/documents.hpp"
#include "api/introspect.hpp"
#include "api/metrics.hpp"
#include "api/models.hpp"
#include "api/ops.hpp"
#include "api/retrieve.hpp"
#include "chat/pipeline.hpp"
#include "cli/command.hpp"
#include "cli/embedding_loop.hpp"
#include "cli/role_check.hpp"
#include "config/config.hpp"
#include "edge/context.hpp"
#include "http/readiness.hpp"
#include "http/server.hpp"
#include "obs/log.hpp"
#include "store/db.hpp"
#include "store/migrations.hpp"
#include "widget/assets.hpp"
#include "widget/chat_routes.hpp"
#include "widget/routes.hpp"
#include "widget/session_sweep.hpp"
#include "widget/signing_key.hpp"
#include "widget/stream_hub.hpp"

namespace parley::cli {
namespace {

namespace asio = boost::asio;

// The first ask of the role check (cli/role_check.hpp), before the socket opens:
// true when it passed, false when the database could not be asked (serve then opens
// the socket and keeps asking). An unsafe role throws: serve never listens.
bool role_checked_at_start(store::database& db, const retry_backoff& backoff) {
  try {
    refuse_privileged_role(db);
    return true;
  } catch (const store::db_error& e) {
    obs::warn("database_unavailable", {{"check", "database_role"},
                                       {"error", e.what()},
                                       {"attempt", 1},
                                       {"retry_in_ms", backoff.first.count()}});
    return false;
  }
}

// Each open stream holds two descriptors (the edge's connection and the provider's):
// the soft limit (often 1024) is raised to the hard one the operator granted.
void raise_open_files_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= limit.rlim_max) return;
  limit.rlim_cur = limit.rlim_max;
  if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) {
    obs::warn("open_files_limit", {{"error", "setrlimit failed"}});
  }
}

std::uint64_t open_files_limit() {
  rlimit limit{};
  return ::getrlimit(RLIMIT_NOFILE, &limit) == 0 ? limit.rlim_cur : 0;
}

// glibc gives each thread that allocates its own arena (up to 8 a core): a stream's
// small objects, made on either loop thread and on DB threads, then fragment across
// arenas. One arena, with glibc's per-thread caches in front of it, keeps an idle
// stream about 12% smaller (bench/engine.py) at no measured cost in throughput.
void use_one_malloc_arena() {
  if (::mallopt(M_ARENA_MAX, 1) != 1) obs::warn("malloc_arena", {{"error", "mallopt failed"}});
}

widget::sweep_settings sweep_settings_of(const config::widget_config& cfg) {
  widget::sweep_settings s;
  s.idle_ttl_s = cfg.idle_session_ttl_s;
  s.interval = std::chrono::seconds(cfg.session_sweep_interval_s);
  return s;
}

// SIGHUP re-reads the widget key ring (a rotation's last step); a ring with problems
// is refused and the key in use stays.
void reload_widget_keys(widget::signing_key& signer, const std::string& keys_file) {
  if (keys_file.empty()) {
    obs::info("reload", {{"widget", "off"}});
    return;
  }
  const auto ring = config::read_key_ring(keys_file, "widget.keys_file");
  if (!ring.problems.empty()) {
    obs::error("widget_keys_reload_failed",
               {{"problems", ring.problems}, {"kid", signer.current()->kid}});
    return;
  }
  signer.replace(ring.keys);
  obs::info("widget_keys_reloaded", {{"kid", signer.current()->kid}});
}

knowledge::service_settings document_settings(const config::config& cfg) {
  knowledge::service_settings s;
  s.max_document_bytes = std::size_t{cfg.knowledge.max_document_mb} << 20;
  s.processing_timeout = std::chrono::seconds(cfg.knowledge.processing_timeout_s);
  s.max_pending_bytes = std::size_t{cfg.knowledge.max_pending_mb} << 20;
  s.chunks = {cfg.retrieval.chunk_tokens, cfg.retrieval.chunk_overlap};
  return s;
}

widget::stream_hub::settings widget_stream_settings(const config::widget_config& w) {
  widget::stream_hub::settings s;
  s.stream.buffer_bytes = std::size_t{w.stream_buffer_kb} * 1024;
  s.stream.grace = std::chrono::seconds(w.stream_grace_s);
  return s;
}

// SIGHUP re-reads the master key ring too (a rotation's second step, before
// rotate-master-key seals with the new key); a ring with problems is refused and the
// one in use stays. Tenants' credentials are then opened again.
void reload_master_keys(base::sealed_box& box, chat::pipeline& chat, const std::string& keys_file) {
  if (keys_file.empty()) return;
  const auto ring = config::read_key_ring(keys_file, "llm.master_keys_file");
  if (!ring.problems.empty()) {
    obs::error("master_keys_reload_failed",
               {{"problems", ring.problems}, {"kid", box.current_key_id()}});
    return;
  }
  box.replace(master_keys_of(ring.keys));
  chat.master_keys_changed();
  obs::info("master_keys_reloaded", {{"kid", box.current_key_id()}});
}

void on_hangup(asio::signal_set& hangups, const std::function<void()>& reload) {
  hangups.async_wait([&hangups, &reload](const boost::system::error_code& ec, int) {
    if (ec) return;
    reload();
    on_hangup(hangups, reload);
  });
}

}  // namespace

int serve(const invocation& inv) {
  inv.opts.allow_only({"config", "json"});
  config::secrets secrets;
  const auto cfg = load_config(inv, &secrets);
  std::signal(SIGPIPE, SIG_IGN);
  raise_open_files_limit();
  use_one_malloc_arena();

  // Declared before the database so it is destroyed after it: the database joins its
  // threads first, and their last results may still be posted to this context.
  asio::io_context io(static_cast<int>(cfg.server.threads));
  store::database db(cfg.database.dsn, cfg.database.pool_size);
  const retry_backoff backoff;
  const bool role_checked = role_checked_at_start(db, backoff);
  http::readiness ready;
  const edge::context_verifier verifier(
      secrets.edge_secret, {cfg.edge.context_max_age_ms, cfg.edge.context_max_skew_ms});

  http::router routes;
  routes.hold_until(ready);
  http::stats http_stats;
  api::add_ops_routes(routes, db, ready);
  api::add_introspection_route(routes, db, cfg.edge);
  api::add_models_routes(routes, db);
  const auto signer = std::make_shared<widget::signing_key>(secrets.widget_keys);
  widget::add_widget_routes(routes, db, widget::make_settings(cfg.widget, signer));
  base::sealed_box credentials(master_keys_of(secrets.master_keys),
                               std::string(admin::credential_purpose));
  const auto catalog = provider_catalog_of(cfg.llm, &credentials);
  admin::add_admin_routes(routes, db, catalog);
  widget::add_asset_routes(routes);
  widget::stream_hub widget_streams(widget_stream_settings(cfg.widget));
  const auto embedders = make_embedders(io, cfg, secrets);
  chat::pipeline chat(io, db, cfg, secrets, *embedders, credentials);
  api::add_metrics_route(routes, http_stats, chat);
  const std::chrono::milliseconds heartbeat(cfg.llm.heartbeat_ms);
  api::add_chat_completions_route(routes, chat, heartbeat);
  api::add_retrieve_route(routes, chat);
  knowledge::document_service documents(
      db, document_settings(cfg), *embedders,
      [&chat](const std::string& tenant_id) { chat.tenant_changed(tenant_id); });
  api::add_document_routes(routes, db, documents, chat);
  widget::add_widget_chat_routes(routes, db, chat, widget_streams,
                                 {cfg.widget.issuer, cfg.widget.token_ttl_s, heartbeat, signer});

  http::server server(io, cfg.server, routes, verifier, http_stats);
  server.listen();

  asio::signal_set hangups(io, SIGHUP);
  const std::function<void()> reload = [&] {
    reload_widget_keys(*signer, cfg.widget.keys_file);
    reload_master_keys(credentials, chat, cfg.llm.master_keys_file);
  };
  on_hangup(hangups, reload);

  widget::session_sweeper sweeper(io, db, sweep_settings_of(cfg.widget));
  const auto become_ready = [&] {
    ready.set_ready();
    sweeper.start();
    obs::info("ready");
  };

  asio::signal_set signals(io, SIGINT, SIGTERM);
  const auto shut_down = [&] {
    server.stop();
    hangups.cancel();
    signals.cancel();
    sweeper.stop();
    io.stop();
  };
  signals.async_wait([&](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    obs::info("shutdown", {{"signal", signal}});
    shut_down();
  });

  std::exception_ptr refused;  // an unsafe role found after a retry
  if (role_checked) {
    become_ready();
  } else {
    const auto on_refused = [&](std::exception_ptr e) {
      refused = e;
      shut_down();
    };
    asio::co_spawn(io, retry_role_check(db, backoff, become_ready, on_refused), asio::detached);
  }

  obs::info("listening",
            {{"socket", cfg.server.socket},
             {"open_files_limit", open_files_limit()},
             {"threads", cfg.server.threads},
             {"schema_version", store::latest_migration_version()},
             {"llm_provider", cfg.llm.provider},
             {"embedder", cfg.retrieval.embedder},
             {"widget", secrets.widget_keys.empty() ? "off" : "on"},
             {"widget_kid", secrets.widget_keys.empty() ? "" : secrets.widget_keys.back().kid}});
  std::vector<std::thread> threads;
  for (unsigned i = 1; i < cfg.server.threads; ++i) threads.emplace_back([&io] { io.run(); });
  io.run();
  for (auto& t : threads) t.join();
  if (refused) std::rethrow_exception(refused);
  inv.out.result({{"status", "stopped"}}, "");
  return 0;
}

}  // namespace parley::cli
