// The SSE writer on a real Unix socket: header fields, chunking, heartbeats, and a
// client that hangs up or stops reading.

#include "http_test_server.hpp"

namespace parley::http::test {
namespace {

class SseWriterTest : public server_test {
 protected:
  SseWriterTest() { cfg_.write_timeout_ms = 300; }

  void add_routes() override {
    using edge::principal_kind;
    routes_.add_public("GET", "/healthz", [](request&, responder& res) -> asio::awaitable<void> {
      auto ok = response::json({{"status", "ok"}});
      co_await res.send(std::move(ok));
    });
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
    routes_.add("GET", "/v1/flood", {principal_kind::key},
                [this](request&, responder& res) -> asio::awaitable<void> {
                  sse_options options;
                  options.heartbeat = 0ms;
                  sse_writer& w = co_await res.start_sse(options);
                  const std::string frame = "data: " + std::string(64 * 1024, 'x') + "\n\n";
                  while (co_await w.write(frame)) {
                  }
                  flood_stopped_ = w.client_gone();
                });
  }

  std::atomic<bool> client_gone_{false};
  std::atomic<bool> handler_done_{false};
  std::atomic<bool> flood_stopped_{false};
};

TEST_F(SseWriterTest, SseStreamsChunkedFramesWithHeartbeatsAndKeepsTheConnection) {
  client c(cfg_.socket);
  c.send(get("/v1/sse", context()));
  const auto stream = c.read_until("0\r\n\r\n");
  EXPECT_NE(stream.find("HTTP/1.1 200 OK"), std::string::npos);
  EXPECT_NE(stream.find("Content-Type: text/event-stream"), std::string::npos);
  EXPECT_NE(stream.find("Cache-Control: no-cache"), std::string::npos);
  EXPECT_NE(stream.find("X-Accel-Buffering: no"), std::string::npos);
  EXPECT_NE(stream.find("Transfer-Encoding: chunked"), std::string::npos);
  EXPECT_NE(stream.find("X-Request-Id: req-1"), std::string::npos);
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

TEST_F(SseWriterTest, AnHttp10ClientGetsTheFramesUnchunkedAndTheEndByTheConnectionClosing) {
  client c(cfg_.socket);
  auto request = get("/v1/sse", context());
  request.replace(request.find("HTTP/1.1"), 8, "HTTP/1.0");
  c.send(request);
  const auto [stream, closed] = c.read_to_end();
  EXPECT_TRUE(closed) << "the server kept an HTTP/1.0 stream's connection open";
  EXPECT_NE(stream.find("HTTP/1.0 200 OK"), std::string::npos);
  EXPECT_EQ(stream.find("Transfer-Encoding"), std::string::npos);
  const auto body = stream.substr(stream.find("\r\n\r\n") + 4);
  EXPECT_TRUE(body.starts_with("data: 1\n\n")) << body;
  EXPECT_TRUE(body.ends_with("data: 2\n\n")) << body;
}

// A request sent while a stream is still open is no hang-up: the stream runs to its
// end, and the request is answered after it on the same connection.
TEST_F(SseWriterTest, ARequestPipelinedDuringAStreamIsAnsweredAfterIt) {
  client c(cfg_.socket);
  c.send(get("/v1/sse", context()));
  EXPECT_NE(c.read_until("data: 1\n\n").find("text/event-stream"), std::string::npos);
  c.send(get("/healthz", ""));
  const auto rest = c.read_until("{\"status\":\"ok\"}");
  const auto second = rest.find("data: 2\n\n");
  const auto end = rest.find("0\r\n\r\n");
  ASSERT_NE(second, std::string::npos) << "the stream ended early: " << rest;
  ASSERT_NE(end, std::string::npos);
  EXPECT_LT(second, end);
  EXPECT_NE(rest.find("HTTP/1.1 200 OK", end), std::string::npos);
}

TEST_F(SseWriterTest, ClientClosingAnIdleStreamIsNoticed) {
  {
    client c(cfg_.socket);
    c.send(get("/v1/hang", context()));
    EXPECT_NE(c.read_until("\r\n\r\n").find("text/event-stream"), std::string::npos);
    c.close();
  }
  EXPECT_TRUE(eventually(client_gone_)) << "on_client_gone did not run";
  EXPECT_TRUE(eventually(handler_done_));
}

TEST_F(SseWriterTest, TheServerCountsItsOpenConnectionsAndStreams) {
  EXPECT_EQ(stats_.streams_open, 0);
  {
    client c(cfg_.socket);
    c.send(get("/v1/hang", context()));
    EXPECT_NE(c.read_until("\r\n\r\n").find("text/event-stream"), std::string::npos);
    EXPECT_EQ(stats_.streams_open, 1);
    EXPECT_EQ(stats_.connections_open, 1);
    c.close();
  }
  EXPECT_TRUE(eventually(handler_done_));
  for (int i = 0; i < 300 && !(stats_.streams_open == 0 && stats_.connections_open == 0); ++i) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(stats_.streams_open, 0);
  EXPECT_EQ(stats_.connections_open, 0);
}

TEST_F(SseWriterTest, AClientThatStopsReadingIsGoneAfterTheWriteTimeout) {
  client c(cfg_.socket);
  c.send(get("/v1/flood", context()));
  EXPECT_NE(c.read_until("\r\n\r\n").find("text/event-stream"), std::string::npos);
  EXPECT_TRUE(eventually(flood_stopped_)) << "writes to a client that reads nothing went on";
}

}  // namespace
}  // namespace parley::http::test
