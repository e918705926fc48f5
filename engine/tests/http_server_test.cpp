// The HTTP server on a real Unix socket: context checks, error mapping, body limit,
// keep-alive, and the SSE writer (headers, chunking, heartbeat, client-gone).

#include <gtest/gtest.h>

#include <utility>

#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <sys/socket.h>
#include <sys/time.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>

#include "base/clock.hpp"
#include "edge/context.hpp"
#include "http/api_error.hpp"
#include "http/server.hpp"

namespace parley::http {
namespace {

namespace asio = boost::asio;
using local = asio::local::stream_protocol;
using namespace std::chrono_literals;

const std::string secret = "server-test-edge-secret-0123456789abcdef";
const std::string tenant = "3f1c2a9e-8b7d-4e21-9c3a-5d6e7f809a1b";

std::string context(edge::principal_kind kind = edge::principal_kind::key) {
  edge::identity id;
  id.tenant_id = tenant;
  id.kind = kind;
  id.principal_id = "key-1";
  id.request_id = "req-1";
  id.signed_at_ms = base::unix_millis();
  return edge::sign_context(secret, id);
}

asio::awaitable<void> sleep_for(std::chrono::milliseconds d) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  boost::system::error_code ec;
  co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

// A blocking client with a receive timeout, so a server bug fails instead of hanging.
class client {
 public:
  explicit client(const std::string& path) : socket_(io_) {
    socket_.connect(local::endpoint(path));
    timeval tv{5, 0};
    ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }

  void send(const std::string& raw) { asio::write(socket_, asio::buffer(raw)); }

  // Reads until `marker` has arrived; returns everything read so far.
  std::string read_until(const std::string& marker) {
    boost::system::error_code ec;
    asio::read_until(socket_, asio::dynamic_buffer(buffer_), marker, ec);
    return buffer_;
  }

  // One response with a Content-Length body; consumes it from the buffer.
  std::string response() {
    read_until("\r\n\r\n");
    const auto head_end = buffer_.find("\r\n\r\n");
    if (head_end == std::string::npos) return std::exchange(buffer_, {});
    const auto cl = buffer_.find("Content-Length: ");
    const std::size_t length = cl < head_end ? std::stoul(buffer_.substr(cl + 16)) : 0;
    while (buffer_.size() < head_end + 4 + length) {
      char chunk[4096];
      boost::system::error_code ec;
      const auto n = socket_.read_some(asio::buffer(chunk), ec);
      if (ec) break;
      buffer_.append(chunk, n);
    }
    auto out = buffer_.substr(0, head_end + 4 + length);
    buffer_.erase(0, out.size());
    return out;
  }

  void close() { socket_.close(); }

 private:
  asio::io_context io_;
  local::socket socket_;
  std::string buffer_;
};

std::string get(const std::string& path, const std::string& ctx) {
  std::string raw = "GET " + path + " HTTP/1.1\r\nHost: engine\r\n";
  if (!ctx.empty()) raw += "X-Parley-Context: " + ctx + "\r\n";
  return raw + "\r\n";
}

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/parley-http-test-XXXXXX";
    dir_ = ::mkdtemp(dir);
    cfg_.socket = dir_ + "/engine.sock";
    cfg_.max_body_bytes = 2048;
    add_routes();
    if (held_) routes_.hold_until(gate_);
    server_ = std::make_unique<server>(io_, cfg_, routes_, verifier_);
    server_->listen();
    thread_ = std::thread([this] { io_.run(); });
  }

  void TearDown() override {
    server_->stop();
    io_.stop();
    thread_.join();
    std::filesystem::remove_all(dir_);
  }

  void add_routes() {
    using edge::principal_kind;
    routes_.add_public("GET", "/healthz", [](request&, responder& res) -> asio::awaitable<void> {
      auto ok = response::json({{"status", "ok"}});
      co_await res.send(std::move(ok));
    });
    routes_.add("GET", "/v1/echo/{id}", {principal_kind::key},
                [](request& req, responder& res) -> asio::awaitable<void> {
                  auto r = response::json({{"id", req.params.at("id")},
                                           {"tenant", req.identity.tenant_id},
                                           {"q", req.query_param("q").value_or("")}});
                  co_await res.send(std::move(r));
                });
    routes_.add("POST", "/v1/body", {principal_kind::key},
                [](request& req, responder& res) -> asio::awaitable<void> {
                  const auto body = parse_json_body(req);
                  auto r = response::json({{"keys", body.size()}});
                  co_await res.send(std::move(r));
                });
    routes_.add("GET", "/v1/throws", {principal_kind::key},
                [](request&, responder&) -> asio::awaitable<void> {
                  throw std::runtime_error("internal detail that must not leak");
                  co_return;
                });
    routes_.add("GET", "/v1/missing-model", {principal_kind::key},
                [](request&, responder&) -> asio::awaitable<void> {
                  throw api_error::model_not_found("nope");
                  co_return;
                });
    routes_.add("GET", "/v1/silent", {principal_kind::key},
                [](request&, responder&) -> asio::awaitable<void> { co_return; });
    routes_.add("GET", "/v1/sse", {principal_kind::key},
                [](request&, responder& res) -> asio::awaitable<void> {
                  sse_options options;
                  options.heartbeat = 50ms;
                  sse_writer& w = co_await res.start_sse(options);
                  co_await w.write("data: 1\n\n");
                  co_await sleep_for(200ms);
                  co_await w.write("data: 2\n\n");
                });
    routes_.add("GET", "/v1/hang", {principal_kind::key},
                [this](request&, responder& res) -> asio::awaitable<void> {
                  sse_options options;
                  options.heartbeat = 0ms;
                  sse_writer& w = co_await res.start_sse(options);
                  asio::steady_timer wait(co_await asio::this_coro::executor, 10s);
                  w.on_client_gone([&] {
                    client_gone_ = true;
                    wait.cancel();
                  });
                  boost::system::error_code ec;
                  co_await wait.async_wait(asio::redirect_error(asio::use_awaitable, ec));
                  handler_done_ = true;
                });
  }

  std::string dir_;
  config::server_config cfg_;
  bool held_ = false;   // routes held until gate_ is ready
  readiness gate_;
  router routes_;
  edge::context_verifier verifier_{secret, {}};
  asio::io_context io_;
  std::unique_ptr<server> server_;
  std::thread thread_;
  std::atomic<bool> client_gone_{false};
  std::atomic<bool> handler_done_{false};
};

bool eventually(const std::atomic<bool>& flag) {
  for (int i = 0; i < 300 && !flag; ++i) std::this_thread::sleep_for(10ms);
  return flag;
}

TEST_F(ServerTest, SocketGetsTheConfiguredMode) {
  const auto perms = std::filesystem::status(cfg_.socket).permissions();
  EXPECT_EQ(static_cast<unsigned>(perms) & 0777u, 0660u);
}

TEST_F(ServerTest, HealthNeedsNoContextAndConnectionsAreKeptAlive) {
  client c(cfg_.socket);
  c.send(get("/healthz", ""));
  EXPECT_NE(c.response().find("HTTP/1.1 200 OK"), std::string::npos);
  c.send(get("/v1/echo/a%20b?q=x+y", context()));
  const auto second = c.response();
  EXPECT_NE(second.find("HTTP/1.1 200 OK"), std::string::npos);
  EXPECT_NE(second.find(R"("id":"a b")"), std::string::npos);
  EXPECT_NE(second.find(R"("q":"x y")"), std::string::npos);
  EXPECT_NE(second.find(R"("tenant":")" + tenant), std::string::npos);
  EXPECT_NE(second.find("X-Request-Id: req-1"), std::string::npos);
}

TEST_F(ServerTest, MissingForgedAndWrongKindContextsAreRefused) {
  client c(cfg_.socket);
  c.send(get("/v1/echo/1", ""));
  auto r = c.response();
  EXPECT_NE(r.find("HTTP/1.1 401"), std::string::npos);
  EXPECT_NE(r.find(R"("code":"invalid_context")"), std::string::npos);
  EXPECT_NE(r.find(R"("type":"invalid_request_error")"), std::string::npos);

  std::string forged = context();
  forged.back() = forged.back() == 'A' ? 'B' : 'A';
  c.send(get("/v1/echo/1", forged));
  EXPECT_NE(c.response().find("HTTP/1.1 401"), std::string::npos);

  c.send(get("/v1/echo/1", context(edge::principal_kind::widget)));
  EXPECT_NE(c.response().find("HTTP/1.1 401"), std::string::npos);

  // Unknown paths are refused like any other without a context.
  c.send(get("/nowhere", ""));
  EXPECT_NE(c.response().find("HTTP/1.1 401"), std::string::npos);
  c.send(get("/nowhere", context()));
  EXPECT_NE(c.response().find("HTTP/1.1 404"), std::string::npos);
}

// serve holds every route that needs a context until its start-up checks pass.
class HeldServerTest : public ServerTest {
 protected:
  void SetUp() override {
    held_ = true;
    ServerTest::SetUp();
  }
};

TEST_F(HeldServerTest, ContextRoutesAnswerNotReadyUntilTheGateOpens) {
  client c(cfg_.socket);
  c.send(get("/healthz", ""));
  EXPECT_NE(c.response().find("HTTP/1.1 200 OK"), std::string::npos);
  c.send(get("/v1/echo/1", context()));
  auto r = c.response();
  EXPECT_NE(r.find("HTTP/1.1 503"), std::string::npos) << r;
  EXPECT_NE(r.find(R"("code":"not_ready")"), std::string::npos);
  EXPECT_NE(r.find(R"("type":"server_error")"), std::string::npos);
  // Without a valid context the answer stays 401: nothing is learnt before the edge's signature.
  c.send(get("/v1/echo/1", ""));
  EXPECT_NE(c.response().find("HTTP/1.1 401"), std::string::npos);

  gate_.set_ready();
  c.send(get("/v1/echo/1", context()));
  EXPECT_NE(c.response().find("HTTP/1.1 200 OK"), std::string::npos);
}

TEST_F(ServerTest, HandlerErrorsBecomeOpenAIErrors) {
  client c(cfg_.socket);
  c.send(get("/v1/missing-model", context()));
  auto r = c.response();
  EXPECT_NE(r.find("HTTP/1.1 404"), std::string::npos);
  EXPECT_NE(r.find(R"("code":"model_not_found")"), std::string::npos);

  c.send(get("/v1/throws", context()));
  r = c.response();
  EXPECT_NE(r.find("HTTP/1.1 500"), std::string::npos);
  EXPECT_NE(r.find(R"("code":"internal_error")"), std::string::npos);
  EXPECT_EQ(r.find("internal detail"), std::string::npos);

  c.send(get("/v1/silent", context()));
  EXPECT_NE(c.response().find("HTTP/1.1 500"), std::string::npos);
}

TEST_F(ServerTest, BodiesAreLimitedAndParsed) {
  client c(cfg_.socket);
  const std::string ok = R"({"a":1,"b":2})";
  c.send("POST /v1/body HTTP/1.1\r\nHost: e\r\nX-Parley-Context: " + context() +
         "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(ok.size()) +
         "\r\n\r\n" + ok);
  EXPECT_NE(c.response().find(R"("keys":2)"), std::string::npos);

  c.send("POST /v1/body HTTP/1.1\r\nHost: e\r\nX-Parley-Context: " + context() +
         "\r\nContent-Length: 5\r\n\r\n{oops");
  EXPECT_NE(c.response().find(R"("code":"invalid_json")"), std::string::npos);

  const std::string big(4096, 'x');
  client d(cfg_.socket);
  d.send("POST /v1/body HTTP/1.1\r\nHost: e\r\nX-Parley-Context: " + context() +
         "\r\nContent-Length: " + std::to_string(big.size()) + "\r\n\r\n" + big);
  const auto r = d.response();
  EXPECT_NE(r.find("HTTP/1.1 413"), std::string::npos) << r;
  EXPECT_NE(r.find(R"("code":"payload_too_large")"), std::string::npos);
}

TEST_F(ServerTest, SseStreamsChunkedFramesWithHeartbeatsAndKeepsTheConnection) {
  client c(cfg_.socket);
  c.send(get("/v1/sse", context()));
  const auto stream = c.read_until("0\r\n\r\n");
  EXPECT_NE(stream.find("HTTP/1.1 200 OK"), std::string::npos);
  EXPECT_NE(stream.find("Content-Type: text/event-stream"), std::string::npos);
  EXPECT_NE(stream.find("Cache-Control: no-cache"), std::string::npos);
  EXPECT_NE(stream.find("X-Accel-Buffering: no"), std::string::npos);
  EXPECT_NE(stream.find("Transfer-Encoding: chunked"), std::string::npos);
  const auto first = stream.find("data: 1\n\n");
  const auto ping = stream.find(": ping\n\n");
  const auto second = stream.find("data: 2\n\n");
  ASSERT_NE(first, std::string::npos);
  ASSERT_NE(ping, std::string::npos) << "no heartbeat during 200 ms idle";
  ASSERT_NE(second, std::string::npos);
  EXPECT_LT(first, ping);
  EXPECT_LT(ping, second);

  // The finished stream left its connection usable.
  c.send(get("/healthz", ""));
  EXPECT_NE(c.read_until("{\"status\":\"ok\"}").find("{\"status\":\"ok\"}"), std::string::npos);
}

TEST_F(ServerTest, ClientClosingAnIdleStreamIsNoticed) {
  {
    client c(cfg_.socket);
    c.send(get("/v1/hang", context()));
    EXPECT_NE(c.read_until("\r\n\r\n").find("text/event-stream"), std::string::npos);
    c.close();
  }
  EXPECT_TRUE(eventually(client_gone_)) << "on_client_gone did not run";
  EXPECT_TRUE(eventually(handler_done_));
}

TEST_F(ServerTest, AStaleSocketFileIsReplacedButALiveOneIsNot) {
  server second(io_, cfg_, routes_, verifier_);
  EXPECT_THROW(second.listen(), std::runtime_error);  // the fixture's server still listens

  config::server_config stale_cfg = cfg_;
  stale_cfg.socket = dir_ + "/stale.sock";
  {
    asio::io_context io;
    local::acceptor left_behind(io, local::endpoint(stale_cfg.socket));
  }  // closed, but the file stays
  ASSERT_TRUE(std::filesystem::exists(stale_cfg.socket));
  server third(io_, stale_cfg, routes_, verifier_);
  EXPECT_NO_THROW(third.listen());
  client c(stale_cfg.socket);
  c.send(get("/healthz", ""));
  EXPECT_NE(c.response().find("200 OK"), std::string::npos);
  third.stop();
}

}  // namespace
}  // namespace parley::http
