#include "api/chat_request.hpp"

#include <gtest/gtest.h>

#include "http/api_error.hpp"

namespace parley::api {
namespace {

using nlohmann::json;

json minimal() {
  return {{"model", "support"}, {"messages", {{{"role", "user"}, {"content", "Hi"}}}}};
}

// The error code of the api_error that parsing `body` throws.
std::string refusal(const json& body) {
  try {
    parse_chat_request(body);
  } catch (const http::api_error& e) {
    EXPECT_EQ(e.status(), 400U);
    EXPECT_EQ(e.type(), "invalid_request_error");
    return e.code();
  }
  return "accepted";
}

TEST(ChatRequest, MinimalRequest) {
  const auto r = parse_chat_request(minimal());
  EXPECT_EQ(r.model, "support");
  ASSERT_EQ(r.messages.size(), 1U);
  EXPECT_EQ(r.messages[0].role, message_role::user);
  EXPECT_EQ(r.messages[0].content, "Hi");
  EXPECT_FALSE(r.stream);
  EXPECT_FALSE(r.include_usage);
  EXPECT_FALSE(r.temperature);
  EXPECT_FALSE(r.max_tokens);
  EXPECT_FALSE(r.session_id);
}

TEST(ChatRequest, AllFields) {
  auto body = minimal();
  body["messages"] = {
      {{"role", "developer"}, {"content", "Be short."}},
      {{"role", "assistant"}, {"content", "Hello!"}},
      {{"role", "user"},
       {"content", {{{"type", "text"}, {"text", "a"}}, {{"type", "text"}, {"text", "b"}}}}}};
  body["stream"] = true;
  body["stream_options"] = {{"include_usage", true}};
  body["temperature"] = 0.5;
  body["max_completion_tokens"] = 100;
  body["user"] = "visitor-1";
  body["session_id"] = "0B6F6A2E-1C2D-4E5F-8A9B-0C1D2E3F4A5B";
  body["top_p"] = 1;  // unknown to us: ignored like OpenAI-compatible servers do
  const auto r = parse_chat_request(body);
  ASSERT_EQ(r.messages.size(), 3U);
  EXPECT_EQ(r.messages[0].role, message_role::system);
  EXPECT_EQ(r.messages[1].role, message_role::assistant);
  EXPECT_EQ(r.messages[2].content, "a\nb");
  EXPECT_TRUE(r.stream);
  EXPECT_TRUE(r.include_usage);
  EXPECT_EQ(r.temperature, 0.5);
  EXPECT_EQ(r.max_tokens, 100);
  EXPECT_EQ(r.user, "visitor-1");
  EXPECT_EQ(r.session_id, "0b6f6a2e-1c2d-4e5f-8a9b-0c1d2e3f4a5b");
}

TEST(ChatRequest, NullMeansNotGiven) {
  auto body = minimal();
  body["temperature"] = nullptr;
  body["stream"] = nullptr;
  body["max_tokens"] = nullptr;
  EXPECT_EQ(refusal(body), "accepted");
}

TEST(ChatRequest, MissingFields) {
  auto body = minimal();
  body.erase("model");
  EXPECT_EQ(refusal(body), "missing_required_parameter");
  body = minimal();
  body.erase("messages");
  EXPECT_EQ(refusal(body), "missing_required_parameter");
}

TEST(ChatRequest, WrongTypesAreRejected) {
  const std::vector<std::pair<std::string, json>> cases{
      {"model", 42},       {"messages", "Hi"},   {"stream", "yes"}, {"temperature", "hot"},
      {"max_tokens", 1.5}, {"max_tokens", "10"}, {"user", 7},       {"session_id", 123},
      {"n", "1"},
  };
  for (const auto& [field, value] : cases) {
    auto body = minimal();
    body[field] = value;
    EXPECT_EQ(refusal(body), "invalid_type") << field << " = " << value.dump();
  }
  auto body = minimal();
  body["messages"][0]["content"] = 5;
  EXPECT_EQ(refusal(body), "invalid_type");
  body = minimal();
  body["messages"][0] = "hello";
  EXPECT_EQ(refusal(body), "invalid_type");
  body = minimal();
  body["stream"] = true;
  body["stream_options"] = {{"include_usage", "true"}};
  EXPECT_EQ(refusal(body), "invalid_type");
  EXPECT_EQ(refusal(json::array()), "invalid_json");
}

TEST(ChatRequest, BadValuesAreRejected) {
  const std::vector<std::pair<std::string, json>> cases{
      {"model", ""},
      {"messages", json::array()},
      {"temperature", 2.5},
      {"max_tokens", 0},
      {"n", 2},
      {"session_id", "not-a-uuid"},
      {"stream_options", {{"include_usage", true}}},  // without stream
  };
  for (const auto& [field, value] : cases) {
    auto body = minimal();
    body[field] = value;
    EXPECT_EQ(refusal(body), "invalid_value") << field << " = " << value.dump();
  }
}

TEST(ChatRequest, ConversationMustEndWithTheUser) {
  auto body = minimal();
  body["messages"].push_back({{"role", "assistant"}, {"content", "Hello"}});
  EXPECT_EQ(refusal(body), "invalid_value");
  body = minimal();
  body["messages"][0]["content"] = "   ";
  EXPECT_EQ(refusal(body), "invalid_value");
}

TEST(ChatRequest, UnsupportedFeaturesAreRefusedNotIgnored) {
  auto body = minimal();
  body["messages"] = {{{"role", "tool"}, {"content", "{}"}, {"tool_call_id", "x"}},
                      {{"role", "user"}, {"content", "Hi"}}};
  EXPECT_EQ(refusal(body), "unsupported_role");
  body = minimal();
  body["messages"][0]["content"] = {{{"type", "image_url"}, {"image_url", {{"url", "http://x"}}}}};
  EXPECT_EQ(refusal(body), "unsupported_content");
  body = minimal();
  body["messages"][0]["role"] = "wizard";
  EXPECT_EQ(refusal(body), "invalid_value");
}

// libpq would cut "\u0000" short, so the stored transcript would differ from what
// the model saw: refused wherever text enters, naming the field.
TEST(ChatRequest, NulCharactersAreRefusedNamingTheField) {
  const std::string nul("a\0b", 3);
  const auto message_of = [](const json& body) {
    try {
      parse_chat_request(body);
    } catch (const http::api_error& e) {
      return e.message();
    }
    return std::string("accepted");
  };

  auto body = minimal();
  body["messages"][0]["content"] = nul;
  EXPECT_EQ(refusal(body), "invalid_content");
  EXPECT_NE(message_of(body).find("'messages[0].content'"), std::string::npos) << message_of(body);

  body = minimal();
  body["messages"] = {{{"role", "system"}, {"content", nul}},
                      {{"role", "user"}, {"content", "Hi"}}};
  EXPECT_EQ(refusal(body), "invalid_content");
  EXPECT_NE(message_of(body).find("'messages[0].content'"), std::string::npos);

  body = minimal();
  body["messages"][0]["content"] = {{{"type", "text"}, {"text", "ok"}},
                                    {{"type", "text"}, {"text", nul}}};
  EXPECT_EQ(refusal(body), "invalid_content");
  EXPECT_NE(message_of(body).find("'messages[0].content[1].text'"), std::string::npos);

  body = minimal();
  body["model"] = "support" + nul;
  EXPECT_EQ(refusal(body), "invalid_content");
  body = minimal();
  body["user"] = nul;
  EXPECT_EQ(refusal(body), "invalid_content");

  // Other control characters are text like any other.
  body = minimal();
  body["messages"][0]["content"] = "tab\there\x01";
  EXPECT_EQ(refusal(body), "accepted");
}

}  // namespace
}  // namespace parley::api
