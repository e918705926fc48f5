#pragma once

// GET /internal/v1/introspect, callable only with an "edge" context (CONTRACTS
// "Introspection"), with exactly one of:
//   ?key_hash=<sha256 hex>  the edge resolves a secret key it has not cached;
//   ?origin=<origin>        whether some active tenant allows this browser origin
//                           (the edge answers widget CORS preflights from it).
// 200 = found (cacheable for X-Parley-Cache-Ttl seconds), 404 = not found.

#include "config/config.hpp"
#include "http/router.hpp"

namespace parley::store {
class database;
}

namespace parley::api {

void add_introspection_route(http::router& routes, store::database& db,
                             const config::edge_config& cfg);

}  // namespace parley::api
