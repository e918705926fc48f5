// A connection on a real Unix socket: routing refusals and handler errors through
// the one error wrapper, the body limit, and the read, idle and write timeouts.

#include "http_test_server.hpp"

#include "http/api_error.hpp"

namespace parley::http::test {
namespace {

using edge::principal_kind;
using steady = std::chrono::steady_clock;

std::chrono::milliseconds since(steady::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - start);
}

class ConnectionTest : public server_test {
 protected:
  ConnectionTest() { cfg_.max_body_bytes = 2048; }

  void add_routes() override {
    routes_.add("GET", "/v1/echo/{id}", {principal_kind::key},
                [](request& req, responder& res) -> asio::awaitable<void> {
                  auto r = response::json({{"id", req.params.at("id")}});
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
    routes_.add("GET", "/v1/wait", {principal_kind::key},
                [this](request&, responder& res) -> asio::awaitable<void> {
                  asio::steady_timer wait(co_await asio::this_coro::executor, 10s);
                  res.on_client_gone([&] {
                    client_gone_ = true;
                    wait.cancel();
                  });
                  boost::system::error_code ec;
                  co_await wait.async_wait(asio::redirect_error(asio::use_awaitable, ec));
                  auto late = response::json({{"late", true}});
                  co_await res.send(std::move(late));
                });
  }

  std::atomic<bool> client_gone_{false};
};

TEST_F(ConnectionTest, MissingForgedAndWrongKindContextsAreRefused) {
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

  c.send(get("/v1/echo/1", context(principal_kind::widget)));
  EXPECT_NE(c.response().find("HTTP/1.1 401"), std::string::npos);

  // Unknown paths are refused like any other without a context.
  c.send(get("/nowhere", ""));
  EXPECT_NE(c.response().find("HTTP/1.1 401"), std::string::npos);
  c.send(get("/nowhere", context()));
  EXPECT_NE(c.response().find("HTTP/1.1 404"), std::string::npos);
}

TEST_F(ConnectionTest, OtherSpellingsOfAPathAre404WithTheRequestId) {
  client c(cfg_.socket);
  for (const auto* path : {"/v1/echo/1/", "/v1//echo/1", "/v1/echo/a%2Fb", "/v1/./echo/1"}) {
    c.send(get(path, context()));
    const auto r = c.response();
    EXPECT_NE(r.find("HTTP/1.1 404"), std::string::npos) << path;
    EXPECT_NE(r.find(R"("code":"not_found")"), std::string::npos) << path;
    EXPECT_NE(r.find("X-Request-Id: req-1"), std::string::npos) << path;
  }
  c.send(get("/v1/echo/1", context()));
  EXPECT_NE(c.response().find(R"("id":"1")"), std::string::npos);
}

TEST_F(ConnectionTest, HandlerErrorsBecomeOpenAIErrors) {
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

TEST_F(ConnectionTest, BodiesAreLimitedAndParsed) {
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

TEST_F(ConnectionTest, ClientClosingWhileAHandlerWorksIsNoticed) {
  {
    client c(cfg_.socket);
    c.send(get("/v1/wait", context()));
    std::this_thread::sleep_for(100ms);  // the handler is waiting now
    c.close();
  }
  EXPECT_TRUE(eventually(client_gone_)) << "on_client_gone did not run";
}

// Short timeouts: the header of a request (and a kept-alive connection's wait for it)
// may take idle_timeout_ms, its body read_timeout_ms, each write write_timeout_ms.
// A handler at work and an open stream have no timeout.
class TimeoutTest : public server_test {
 protected:
  TimeoutTest() {
    cfg_.idle_timeout_ms = 1000;
    cfg_.read_timeout_ms = 300;
    cfg_.write_timeout_ms = 300;
  }

  void add_routes() override {
    routes_.add("POST", "/v1/body", {principal_kind::key},
                [](request& req, responder& res) -> asio::awaitable<void> {
                  auto r = response::json({{"bytes", req.body.size()}});
                  co_await res.send(std::move(r));
                });
    routes_.add("GET", "/v1/slow", {principal_kind::key},
                [](request&, responder& res) -> asio::awaitable<void> {
                  res.on_client_gone([] {});  // a read outstanding while the handler works
                  co_await sleep_for(1500ms);
                  auto r = response::json({{"slow", true}});
                  co_await res.send(std::move(r));
                });
    routes_.add("GET", "/v1/slow-sse", {principal_kind::key},
                [](request&, responder& res) -> asio::awaitable<void> {
                  sse_options options;
                  options.heartbeat = 0ms;
                  sse_writer& w = co_await res.start_sse(options);
                  co_await sleep_for(1500ms);
                  co_await w.write("data: late\n\n");
                });
    routes_.add("GET", "/v1/big", {principal_kind::key},
                [this](request&, responder& res) -> asio::awaitable<void> {
                  response r;
                  r.content_type = "text/plain";
                  r.body.assign(big_size, 'x');
                  co_await res.send(std::move(r));
                  big_sent_ = true;
                });
  }

  static constexpr std::size_t big_size = 16 * 1024 * 1024;
  std::atomic<bool> big_sent_{false};
};

TEST_F(TimeoutTest, AKeptAliveConnectionIsClosedAfterTheIdleTimeout) {
  client c(cfg_.socket);
  c.send("POST /v1/body HTTP/1.1\r\nHost: e\r\nX-Parley-Context: " + context() +
         "\r\nContent-Length: 2\r\n\r\n{}");
  EXPECT_NE(c.response().find(R"("bytes":2)"), std::string::npos);
  const auto start = steady::now();
  const auto [rest, closed] = c.read_to_end();
  EXPECT_TRUE(closed);
  EXPECT_TRUE(rest.empty()) << rest;
  EXPECT_GE(since(start), 900ms);
}

TEST_F(TimeoutTest, AHeaderMayTakeTheIdleTimeoutButABodyOnlyTheReadTimeout) {
  client slow_header(cfg_.socket);
  slow_header.send("POST /v1/body HTTP/1.1\r\nHost: e\r\n");
  std::this_thread::sleep_for(600ms);  // over the read timeout, under the idle timeout
  slow_header.send("X-Parley-Context: " + context() + "\r\nContent-Length: 2\r\n\r\n{}");
  EXPECT_NE(slow_header.response().find("HTTP/1.1 200"), std::string::npos);

  client slow_body(cfg_.socket);
  slow_body.send("POST /v1/body HTTP/1.1\r\nHost: e\r\nX-Parley-Context: " + context() +
                 "\r\nContent-Length: 10\r\n\r\n{}");
  const auto start = steady::now();
  const auto [answer, closed] = slow_body.read_to_end();
  EXPECT_TRUE(closed);
  EXPECT_TRUE(answer.empty()) << "an unfinished request was answered: " << answer;
  EXPECT_GE(since(start), 250ms);
  EXPECT_LT(since(start), 900ms) << "the body had the idle timeout, not the read timeout";
}

TEST_F(TimeoutTest, AWorkingHandlerAndAnIdleStreamOutlastEveryTimeout) {
  client c(cfg_.socket);
  c.send(get("/v1/slow", context()));
  EXPECT_NE(c.response().find(R"("slow":true)"), std::string::npos);

  c.send(get("/v1/slow-sse", context()));
  const auto stream = c.read_until("0\r\n\r\n");
  EXPECT_NE(stream.find("data: late\n\n"), std::string::npos) << stream;
  EXPECT_NE(stream.find("0\r\n\r\n"), std::string::npos);
}

TEST_F(TimeoutTest, AClientThatStopsReadingIsDroppedAfterTheWriteTimeout) {
  client c(cfg_.socket);
  c.send(get("/v1/big", context()));
  EXPECT_TRUE(eventually(big_sent_)) << "the write did not give up";
  const auto [received, closed] = c.read_to_end();
  EXPECT_TRUE(closed);
  EXPECT_NE(received.find("HTTP/1.1 200"), std::string::npos);
  EXPECT_LT(received.size(), big_size);
}

}  // namespace
}  // namespace parley::http::test
