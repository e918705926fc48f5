// The server on a real Unix socket: the socket file's mode, stale-socket handling,
// and connections that serve several requests.

#include "http_test_server.hpp"

namespace parley::http::test {
namespace {

class ServerTest : public server_test {
 protected:
  void add_routes() override {
    routes_.add_public("GET", "/healthz", [](request&, responder& res) -> asio::awaitable<void> {
      auto ok = response::json({{"status", "ok"}});
      co_await res.send(std::move(ok));
    });
    routes_.add("GET", "/v1/echo/{id}", {edge::principal_kind::key},
                [](request& req, responder& res) -> asio::awaitable<void> {
                  auto r = response::json({{"id", req.params.at("id")},
                                           {"tenant", req.identity.tenant_id},
                                           {"q", req.query_param("q").value_or("")}});
                  co_await res.send(std::move(r));
                });
  }

  // A second server on the fixture's loop. Kept until the fixture is torn down: its
  // accept loop and connections run on the loop thread until that stops, so
  // destroying it in the test body would pull their state from under them.
  server& another_server(const config::server_config& cfg) {
    more_servers_.push_back(std::make_unique<server>(io_, cfg, routes_, verifier_, stats_));
    return *more_servers_.back();
  }

 private:
  std::vector<std::unique_ptr<server>> more_servers_;
};

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

TEST_F(ServerTest, AStaleSocketFileIsReplacedButALiveOneIsNot) {
  EXPECT_THROW(another_server(cfg_).listen(),
               std::runtime_error);  // the fixture's server still listens

  config::server_config stale_cfg = cfg_;
  stale_cfg.socket = dir_ + "/stale.sock";
  {
    asio::io_context io;
    local::acceptor left_behind(io, local::endpoint(stale_cfg.socket));
  }  // closed, but the file stays
  ASSERT_TRUE(std::filesystem::exists(stale_cfg.socket));
  auto& replacing = another_server(stale_cfg);
  EXPECT_NO_THROW(replacing.listen());
  client c(stale_cfg.socket);
  c.send(get("/healthz", ""));
  EXPECT_NE(c.response().find("200 OK"), std::string::npos);
  replacing.stop();
}

}  // namespace
}  // namespace parley::http::test
