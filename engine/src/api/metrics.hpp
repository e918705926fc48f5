#pragma once

// GET /metrics on the engine's socket, in Prometheus' text format: the engine's
// counters and histograms (obs/metrics.hpp) and what it has open now. Public on the
// socket like /healthz; through the edge only at /_parley/metrics, for the
// addresses parley-locations.conf allows.

#include "chat/pipeline.hpp"
#include "http/router.hpp"
#include "http/stats.hpp"

namespace parley::api {

// `stats` and `pipeline` must outlive the routes.
void add_metrics_route(http::router& routes, const http::stats& stats,
                       const chat::pipeline& pipeline);

}  // namespace parley::api
