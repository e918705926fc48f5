#pragma once

// GET /internal/v1/introspect?key_hash=<sha256 hex>: the edge resolves a secret key it
// has not cached (CONTRACTS "Introspection"). Callable only with an "edge" context.

#include "config/config.hpp"
#include "http/route.hpp"

namespace parley::store {
class database;
}

namespace parley::edge {

void add_introspection_route(http::router& routes, store::database& db,
                             const config::edge_config& cfg);

}  // namespace parley::edge
