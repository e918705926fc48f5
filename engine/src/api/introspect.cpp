#include "api/introspect.hpp"

#include <chrono>

#include "edge/api_key.hpp"
#include "http/api_error.hpp"
#include "obs/log.hpp"
#include "shared/parley_context.h"
#include "store/db.hpp"
#include "store/key_repo.hpp"
#include "store/tenant_repo.hpp"
#include "widget/origin.hpp"

namespace parley::api {

namespace asio = boost::asio;
namespace {

// Answers are header fields and no body: the edge reads the header only, and a
// response without a body lets nginx keep the connection for the next lookup.
http::response answer(unsigned status) { return {status, "", {}, ""}; }

http::response grant_response(const store::key_grant& g, unsigned ttl) {
  auto res = answer(200);
  res.headers.push_back({PARLEY_HDR_TENANT_ID, g.tenant_id});
  res.headers.push_back({PARLEY_HDR_KEY_ID, g.key_id});
  res.headers.push_back({PARLEY_HDR_KEY_KIND, g.kind});
  // Absent plan values mean "use the edge's directive defaults".
  const auto& p = g.plan;
  if (p.rate_rpm) res.headers.push_back({PARLEY_HDR_RATE_RPM, std::to_string(*p.rate_rpm)});
  if (p.rate_burst) res.headers.push_back({PARLEY_HDR_RATE_BURST, std::to_string(*p.rate_burst)});
  if (p.max_streams)
    res.headers.push_back({PARLEY_HDR_MAX_STREAMS, std::to_string(*p.max_streams)});
  res.headers.push_back({PARLEY_HDR_CACHE_TTL, std::to_string(ttl)});
  return res;
}

double since_ms(std::chrono::steady_clock::time_point started) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started)
      .count();
}

// ?key_hash=<sha256 hex>: a secret key (publishable keys never match, so a site key
// can never be used as a bearer key).
asio::awaitable<void> introspect_key(store::database& db, unsigned ttl, std::string_view hash,
                                     http::request& req, http::responder& res) {
  if (!edge::is_key_hash(hash)) {
    throw http::api_error::bad_request("invalid_key_hash",
                                       "key_hash must be 64 lowercase hex characters.");
  }
  const auto started = std::chrono::steady_clock::now();
  std::optional<store::key_grant> grant;
  auto lookup = [h = std::string(hash)](store::transaction& tx) {
    return store::introspect_secret_key(tx, h);
  };
  try {
    grant = co_await db.async_platform(std::move(lookup));
  } catch (const store::db_error& e) {
    obs::error("introspect",
               {{"request_id", req.identity.request_id}, {"result", "error"}, {"error", e.what()}});
    throw http::api_error::unavailable("database_unavailable", "The key store is unavailable.");
  }
  obs::info("introspect", {{"request_id", req.identity.request_id},
                           {"result", grant ? "found" : "not_found"},
                           {"tenant_id", grant ? grant->tenant_id : ""},
                           {"key_id", grant ? grant->key_id : ""},
                           {"latency_ms", since_ms(started)}});
  // A named response, not a temporary in the co_await operand (g++ 12, store/db.hpp).
  auto verdict = grant ? grant_response(*grant, ttl) : answer(404);
  co_await res.send(std::move(verdict));
}

// ?origin=<o>: whether some active tenant allows this exact origin, so the edge can
// answer CORS preflights on /widget/v1/* itself (and cache the verdict).
asio::awaitable<void> introspect_origin(store::database& db, unsigned ttl, std::string_view origin,
                                        http::request& req, http::responder& res) {
  const auto started = std::chrono::steady_clock::now();
  bool allowed = false;
  if (widget::is_valid_origin(origin)) {
    auto lookup = [o = std::string(origin)](store::transaction& tx) {
      return store::origin_allowed(tx, o);
    };
    try {
      allowed = co_await db.async_platform(std::move(lookup));
    } catch (const store::db_error& e) {
      obs::error(
          "introspect",
          {{"request_id", req.identity.request_id}, {"result", "error"}, {"error", e.what()}});
      throw http::api_error::unavailable("database_unavailable",
                                         "The tenant store is unavailable.");
    }
  }
  obs::info("introspect", {{"request_id", req.identity.request_id},
                           {"result", allowed ? "found" : "not_found"},
                           {"origin", std::string(origin)},
                           {"latency_ms", since_ms(started)}});
  auto verdict = answer(allowed ? 200 : 404);
  if (allowed) verdict.headers.push_back({PARLEY_HDR_CACHE_TTL, std::to_string(ttl)});
  co_await res.send(std::move(verdict));
}

}  // namespace

void add_introspection_route(http::router& routes, store::database& db,
                             const config::edge_config& cfg) {
  const unsigned ttl = cfg.introspect_cache_ttl_s;
  routes.add("GET", PARLEY_INTROSPECT_PATH, {edge::principal_kind::edge},
             [&db, ttl](http::request& req, http::responder& res) -> asio::awaitable<void> {
               const auto hash = req.query_param("key_hash");
               const auto origin = req.query_param("origin");
               if (hash.has_value() == origin.has_value()) {
                 throw http::api_error::bad_request("invalid_query",
                                                    "Give exactly one of key_hash or origin.");
               }
               if (hash) return introspect_key(db, ttl, *hash, req, res);
               return introspect_origin(db, ttl, *origin, req, res);
             });
}

}  // namespace parley::api
