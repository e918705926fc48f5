// The OpenAI error shape of api_error.

#include <gtest/gtest.h>

#include "http/api_error.hpp"

namespace parley::http {
namespace {

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
