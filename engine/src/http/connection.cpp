#include "http/connection.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http.hpp>

#include <cmath>
#include <memory>
#include <optional>

#include "base/clock.hpp"
#include "http/api_error.hpp"
#include "http/responder.hpp"
#include "http/sse_writer.hpp"
#include "http/url.hpp"
#include "obs/log.hpp"
#include "obs/metrics.hpp"

namespace parley::http {
namespace {

namespace bhttp = boost::beast::http;
using clock = std::chrono::steady_clock;
using asio::use_awaitable;

constexpr std::size_t header_limit = 16 * 1024;

std::chrono::milliseconds ms(std::uint32_t v) { return std::chrono::milliseconds(v); }

// A request as read off the socket, before routing.
struct incoming {
  request req;
  std::string query;  // raw; parsed inside the error wrapper (bad escapes are 400)
  unsigned version = 11;
  bool keep_alive = true;
  bool too_large = false;  // body over server.max_body_bytes: answered with 413
};

// Reads one request. Nothing when the peer closed, timed out or sent garbage (there
// is nobody to answer). The parser lives only in this frame, so a long-lived stream
// does not keep it. The header may take server.idle_timeout_ms (a kept-alive
// connection waits that long for its next request), the body server.read_timeout_ms.
asio::awaitable<std::optional<incoming>> read_request(connection& conn) {
  const auto& cfg = conn.cfg();
  bhttp::request_parser<bhttp::string_body> parser;
  parser.header_limit(header_limit);
  parser.body_limit(cfg.max_body_bytes);
  boost::system::error_code ec;

  conn.stream().expires_after(ms(cfg.idle_timeout_ms));
  co_await bhttp::async_read_header(conn.stream(), conn.buffer(), parser,
                                    asio::redirect_error(use_awaitable, ec));
  // A declared Content-Length over the limit fails here already.
  if (ec && ec != bhttp::error::body_limit) co_return std::nullopt;
  const auto received_at = clock::now();
  if (!ec && !parser.is_done()) {
    conn.stream().expires_after(ms(cfg.read_timeout_ms));
    co_await bhttp::async_read(conn.stream(), conn.buffer(), parser,
                               asio::redirect_error(use_awaitable, ec));
  }
  if (ec && ec != bhttp::error::body_limit) co_return std::nullopt;

  auto& raw = parser.get();
  incoming in;
  in.version = raw.version();
  in.keep_alive = raw.keep_alive();
  in.too_large = ec == bhttp::error::body_limit;
  request& req = in.req;
  req.received_at = received_at;
  req.method = std::string(raw.method_string());
  const std::string_view target = raw.target();
  const auto qmark = target.find('?');
  req.path = std::string(target.substr(0, qmark));
  if (qmark != std::string_view::npos) in.query = std::string(target.substr(qmark + 1));
  req.headers.reserve(std::distance(raw.begin(), raw.end()));
  for (const auto& field : raw) {
    req.headers.push_back({std::string(field.name_string()), std::string(field.value())});
  }
  req.body = std::move(raw.body());
  // The buffer's memory goes back once it holds nothing more: an answer may stream
  // for minutes, and the next request's read takes it again.
  if (conn.buffer().size() == 0) conn.buffer().shrink_to_fit();
  co_return in;
}

asio::awaitable<void> refuse(responder_impl& res, const api_error& e, bool close) {
  auto r = response::json(e.status(), e.body());
  if (close) r.headers.push_back({"Connection", "close"});
  co_await res.send(std::move(r));
}

void log_request(const request& req, const responder_impl& res, std::uint64_t connection_id) {
  const auto latency =
      std::chrono::duration<double, std::milli>(clock::now() - req.received_at).count();
  // Health probes arrive every few seconds; they are only interesting when debugging.
  const bool probe = req.path == "/healthz" || req.path == "/readyz";
  // An unmatched request's method and path are the client's: neither becomes a label.
  const bool matched = !req.route.empty();
  obs::metrics::http_request(matched ? req.route : "unmatched", matched ? req.method : "",
                             res.status(), latency / 1000);
  obs::log(probe ? obs::level::debug : obs::level::info, "request",
           {{"method", req.method},
            {"path", req.loggable_path()},
            {"status", res.status()},
            {"latency_ms", std::round(latency * 1000) / 1000},
            {"request_id", req.identity.request_id},
            {"tenant_id", req.identity.tenant_id},
            {"session_id", req.identity.session_id.value_or("")},
            {"connection", connection_id}});
}

}  // namespace

asio::awaitable<void> connection::run() {
  try {
    while (co_await serve_one()) {
    }
  } catch (const std::exception& e) {
    obs::error("connection_error", {{"error", e.what()}});
  }
  boost::system::error_code ec;
  stream_.socket().shutdown(asio::local::stream_protocol::socket::shutdown_send, ec);
  stream_.close();
}

// Reads one request, answers it; returns whether the connection stays open.
asio::awaitable<bool> connection::serve_one() {
  auto in = co_await read_request(*this);
  if (!in) co_return false;
  request& req = in->req;
  responder_impl res(*this, req, in->version, in->keep_alive);
  if (in->too_large) {
    const auto too_large = api_error::payload_too_large(
        "The request body is larger than " + std::to_string(cfg().max_body_bytes) + " bytes.");
    co_await refuse(res, too_large, true);
    co_return false;
  }
  co_await answer(req, in->query, res);
  log_request(req, res, id_);
  const bool gone = res.stream() && res.stream()->client_gone();
  co_return res.keep_alive() && !gone && !peer_closed_ && stream_.socket().is_open();
}

// The one error wrapper: whatever routing or the handler throws becomes the JSON
// error response.
asio::awaitable<void> connection::answer(request& req, const std::string& query,
                                         responder_impl& res) {
  std::unique_ptr<api_error> failure;  // not inline: the frame lasts as long as a stream
  try {
    if (!query.empty()) req.query = parse_query(query);
    const auto& route = srv_.routes.resolve(req, srv_.verifier, base::unix_millis());
    co_await route.handler(req, res);
  } catch (const api_error& e) {
    failure = std::make_unique<api_error>(e);
  } catch (const std::exception& e) {
    obs::error("handler_exception", {{"error", e.what()},
                                     {"path", req.loggable_path()},
                                     {"request_id", req.identity.request_id}});
    failure = std::make_unique<api_error>(api_error::internal());
  }
  if (failure && res.responded()) {
    // Too late for an error response (headers or an SSE stream went out already):
    // the stream just ends, and the log says why.
    obs::warn("handler_error_after_response", {{"path", req.loggable_path()},
                                               {"request_id", req.identity.request_id},
                                               {"code", failure->code()}});
  }
  if (auto* stream = res.stream()) {
    co_await stream->finish();
  } else if (failure && !res.responded()) {
    co_await refuse(res, *failure, false);
  } else if (!res.responded()) {
    obs::error("handler_no_response",
               {{"path", req.loggable_path()}, {"request_id", req.identity.request_id}});
    const auto internal = api_error::internal();
    co_await refuse(res, internal, false);
  }
}

}  // namespace parley::http
