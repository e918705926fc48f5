// What handlers see of a request: header lookup and JSON body parsing.

#include <gtest/gtest.h>

#include "http/api_error.hpp"
#include "http/route.hpp"

namespace parley::http {
namespace {

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
  expect_invalid_json("{\"a\":\"\xff\xfe\"}");  // invalid UTF-8
  expect_invalid_json(std::string(40, '[') + std::string(40, ']'));
  expect_invalid_json("{\"a\":" + std::string(1000, '[') + std::string(1000, ']') + "}");
}

}  // namespace
}  // namespace parley::http
