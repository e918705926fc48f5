#pragma once

// Operations probes, reachable without a context: GET /healthz (the process answers)
// and GET /readyz (start-up checks passed, database reachable and the schema at this
// binary's version).

#include "http/router.hpp"

namespace parley::store {
class database;
}

namespace parley::api {

// `ready` (serve's start-up checks) must outlive the routes.
void add_ops_routes(http::router& routes, store::database& db, const http::readiness& ready);

}  // namespace parley::api
