#pragma once

// Operations probes, reachable without a context: GET /healthz (the process answers)
// and GET /readyz (database reachable and the schema at this binary's version).

#include "http/router.hpp"

namespace parley::store {
class database;
}

namespace parley::api {

void add_ops_routes(http::router& routes, store::database& db);

}  // namespace parley::api
