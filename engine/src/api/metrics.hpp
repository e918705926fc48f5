#pragma once

// GET /metrics on the engine's socket, in Prometheus' text format: what the engine
// has open now. Public on the socket like /healthz; the edge does not forward it.

#include "http/router.hpp"
#include "http/stats.hpp"

namespace parley::api {

// `stats` must outlive the routes.
void add_metrics_route(http::router& routes, const http::stats& stats);

}  // namespace parley::api
