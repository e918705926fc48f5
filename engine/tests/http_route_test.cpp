// Routing, header lookup and JSON body parsing: the parts of http/ with no socket.

#include <gtest/gtest.h>

#include "http/api_error.hpp"
#include "http/route.hpp"

namespace parley::http {
namespace {

handler noop() {
  return [](request&, responder&) -> asio::awaitable<void> { co_return; };
}

TEST(Router, MatchesLiteralAndCapturedSegments) {
  router r;
  r.add("GET", "/v1/models", {edge::principal_kind::key}, noop());
  r.add("GET", "/v1/documents/{id}", {edge::principal_kind::key}, noop());
  r.add_public("GET", "/healthz", noop());

  auto m = r.match("GET", "/v1/documents/abc-123");
  ASSERT_NE(m.found, nullptr);
  EXPECT_EQ(m.params.at("id"), "abc-123");
  EXPECT_FALSE(m.found->is_public);

  m = r.match("GET", "/healthz");
  ASSERT_NE(m.found, nullptr);
  EXPECT_TRUE(m.found->is_public);

  EXPECT_NE(r.match("GET", "/v1/models/").found, nullptr);
  EXPECT_EQ(r.match("GET", "/v1/documents").found, nullptr);
  EXPECT_EQ(r.match("GET", "/v1/documents/a/b").found, nullptr);
}

TEST(Router, KnownPathWithOtherMethodIsDistinguishedFromUnknownPath) {
  router r;
  r.add("GET", "/v1/models", {edge::principal_kind::key}, noop());
  const auto wrong_method = r.match("POST", "/v1/models");
  EXPECT_EQ(wrong_method.found, nullptr);
  EXPECT_TRUE(wrong_method.path_known);
  const auto unknown = r.match("GET", "/v2/models");
  EXPECT_EQ(unknown.found, nullptr);
  EXPECT_FALSE(unknown.path_known);
}

TEST(Request, HeaderLookupIgnoresCase) {
  request req;
  req.headers = {{"Content-Type", "application/json"}, {"X-Parley-Context", "v1.x"}};
  EXPECT_EQ(req.header("content-type"), "application/json");
  EXPECT_EQ(req.header("X-PARLEY-CONTEXT"), "v1.x");
  EXPECT_FALSE(req.header("Authorization").has_value());
}

TEST(JsonBody, AcceptsAnObject) {
  request req;
  req.body = R"({"model":"sales","messages":[{"role":"user","content":"hi"}]})";
  EXPECT_EQ(parse_json_body(req).at("model"), "sales");
}

void expect_invalid_json(const std::string& body) {
  request req;
  req.body = body;
  try {
    parse_json_body(req);
    FAIL() << "accepted: " << body.substr(0, 40);
  } catch (const api_error& e) {
    EXPECT_EQ(e.status(), 400u);
    EXPECT_EQ(e.code(), "invalid_json");
    EXPECT_EQ(e.body()["error"]["type"], "invalid_request_error");
  }
}

TEST(JsonBody, RefusesBrokenWrongAndHostileBodies) {
  expect_invalid_json("");
  expect_invalid_json("{");
  expect_invalid_json("[1,2]");
  expect_invalid_json("\"text\"");
  expect_invalid_json("{\"a\":\"\xff\xfe\"}");                 // invalid UTF-8
  expect_invalid_json(std::string(40, '[') + std::string(40, ']'));
  expect_invalid_json("{\"a\":" + std::string(1000, '[') + std::string(1000, ']') + "}");
}

TEST(ApiError, BodyHasTheOpenAIShape) {
  const auto e = api_error::model_not_found("nope");
  EXPECT_EQ(e.status(), 404u);
  const auto body = e.body();
  EXPECT_EQ(body["error"]["type"], "invalid_request_error");
  EXPECT_EQ(body["error"]["code"], "model_not_found");
  EXPECT_NE(body["error"]["message"].get<std::string>().find("nope"), std::string::npos);
  EXPECT_EQ(api_error::unauthorized_context("x").status(), 401u);
  EXPECT_EQ(api_error::internal().body()["error"]["type"], "server_error");
}

}  // namespace
}  // namespace parley::http
