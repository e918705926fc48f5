#include "api/metrics.hpp"

#include <string>
#include <string_view>

#include "obs/metrics.hpp"

namespace parley::api {

namespace {

namespace asio = boost::asio;

void gauge(std::string& out, std::string_view name, std::string_view help, std::int64_t value) {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n");
  out.append("# TYPE ").append(name).append(" gauge\n");
  out.append(name).append(" ").append(std::to_string(value)).append("\n");
}

}  // namespace

void add_metrics_route(http::router& routes, const http::stats& stats,
                       const chat::pipeline& pipeline) {
  routes.add_public(
      "GET", "/metrics",
      [&stats, &pipeline](http::request&, http::responder& res) -> asio::awaitable<void> {
        std::string body = obs::metrics::exposition();
        gauge(body, "parley_http_connections_open", "Connections from the edge now open.",
              stats.connections_open.load(std::memory_order_relaxed));
        gauge(body, "parley_streams_open", "Event-stream responses now open.",
              stats.streams_open.load(std::memory_order_relaxed));
        gauge(body, "parley_index_cache_bytes",
              "Memory held by the knowledge indexes this engine keeps.",
              static_cast<std::int64_t>(pipeline.index_cache_bytes()));
        http::response r;
        r.content_type = "text/plain; version=0.0.4";
        r.body = std::move(body);
        co_await res.send(std::move(r));
      });
}

}  // namespace parley::api
