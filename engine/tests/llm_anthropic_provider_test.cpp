#include "llm/anthropic_provider.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "llm_fake_upstream.hpp"

namespace parley::llm {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using test_support::error_of;
using test_support::expect_done;
using test_support::fake_upstream;
using test_support::outcome;
using test_support::run_generation;
using test_support::tokens_of;

json body_of(const generation_request& r, std::int64_t default_max_tokens = 1024) {
  return json::parse(anthropic_request_body(r, default_max_tokens));
}

stream_step read(std::string_view type, const json& data) {
  const auto step = read_anthropic_event({std::string(type), data.dump(), ""});
  EXPECT_TRUE(step) << data.dump();
  return step.value_or(stream_step{});
}

bool carries_nothing(const stream_step& s) {
  return s.text.empty() && !s.finish_reason && !s.prompt_tokens && !s.completion_tokens &&
         !s.error && !s.complete && !s.last;
}

// ---- the request ----------------------------------------------------------------

TEST(LlmAnthropicProvider, SystemMessagesBecomeTheTopLevelSystemField) {
  generation_request r;
  r.model = "claude-test";
  r.messages = {{role::system, "Persona."}, {role::user, "Q1"}, {role::system, "Rules."}};
  const auto body = body_of(r);
  EXPECT_EQ(body["system"], "Persona.\n\nRules.");
  ASSERT_EQ(body["messages"].size(), 1U);
  EXPECT_EQ(body["messages"][0], (json{{"role", "user"}, {"content", "Q1"}}));
  EXPECT_EQ(body["model"], "claude-test");
  EXPECT_EQ(body["stream"], true);
  EXPECT_FALSE(body.contains("stream_options"));  // OpenAI's, not Anthropic's

  r.messages = {{role::user, "only"}};
  EXPECT_FALSE(body_of(r).contains("system"));
}

TEST(LlmAnthropicProvider, TheConversationAlternatesAndOpensWithTheUser) {
  generation_request r;
  r.messages = {{role::system, "S"},         {role::assistant, "cut-off answer"},
                {role::user, "first"},       {role::user, "second"},
                {role::assistant, "a1"},     {role::assistant, ""},
                {role::assistant, "a2"},     {role::user, ""},
                {role::user, "the question"}};
  const auto messages = body_of(r)["messages"];
  EXPECT_EQ(messages, (json{{{"role", "user"}, {"content", "first\n\nsecond"}},
                            {{"role", "assistant"}, {"content", "a1\n\na2"}},
                            {{"role", "user"}, {"content", "the question"}}}));
}

TEST(LlmAnthropicProvider, MaxTokensIsAlwaysSent) {
  generation_request r;
  r.messages = {{role::user, "q"}};
  EXPECT_EQ(body_of(r, 1024)["max_tokens"], 1024);
  EXPECT_EQ(body_of(r, 77)["max_tokens"], 77);
  r.max_tokens = 64;
  EXPECT_EQ(body_of(r, 1024)["max_tokens"], 64);
}

TEST(LlmAnthropicProvider, TemperatureOnlyWhenSetAndWithinAnthropicsRange) {
  generation_request r;
  r.messages = {{role::user, "q"}};
  EXPECT_FALSE(body_of(r).contains("temperature"));
  r.temperature = 0.3;
  EXPECT_DOUBLE_EQ(body_of(r)["temperature"].get<double>(), 0.3);
  r.temperature = 1.8;  // OpenAI's range runs to 2, Anthropic's to 1
  EXPECT_DOUBLE_EQ(body_of(r)["temperature"].get<double>(), 1.0);
}

// ---- the events -----------------------------------------------------------------

TEST(LlmAnthropicProvider, MessageStartReportsThePromptWithItsCacheTokens) {
  const auto s = read("message_start", {{"type", "message_start"},
                                        {"message",
                                         {{"id", "msg_1"},
                                          {"type", "message"},
                                          {"role", "assistant"},
                                          {"content", json::array()},
                                          {"stop_reason", nullptr},
                                          {"usage",
                                           {{"input_tokens", 25},
                                            {"cache_creation_input_tokens", 100},
                                            {"cache_read_input_tokens", 300},
                                            {"output_tokens", 1}}}}}});
  EXPECT_EQ(s.prompt_tokens, 425);
  EXPECT_EQ(s.completion_tokens, 1);
  EXPECT_TRUE(s.text.empty());
  EXPECT_FALSE(s.complete);

  const auto plain = read("message_start",
                          {{"type", "message_start"},
                           {"message", {{"usage", {{"input_tokens", 7}, {"output_tokens", 1}}}}}});
  EXPECT_EQ(plain.prompt_tokens, 7);
}

TEST(LlmAnthropicProvider, TextDeltasAreTokensOtherDeltasAreNot) {
  EXPECT_EQ(read("content_block_delta",
                 {{"type", "content_block_delta"},
                  {"index", 0},
                  {"delta", {{"type", "text_delta"}, {"text", std::string("Hel\0lo", 6)}}}})
                .text,
            "Hello");
  for (const auto& delta : {json{{"type", "input_json_delta"}, {"partial_json", "{\"a\""}},
                            json{{"type", "thinking_delta"}, {"thinking", "hmm"}},
                            json{{"type", "signature_delta"}, {"signature", "x"}}}) {
    EXPECT_TRUE(carries_nothing(
        read("content_block_delta", {{"type", "content_block_delta"}, {"delta", delta}})))
        << delta.dump();
  }
}

TEST(LlmAnthropicProvider, MessageDeltaCarriesTheStopReasonAndOutputTokens) {
  const auto delta = [](const char* stop) {
    return read("message_delta", {{"type", "message_delta"},
                                  {"delta", {{"stop_reason", stop}, {"stop_sequence", nullptr}}},
                                  {"usage", {{"output_tokens", 15}}}});
  };
  const auto s = delta("end_turn");
  EXPECT_EQ(s.finish_reason, "stop");
  EXPECT_EQ(s.completion_tokens, 15);
  EXPECT_FALSE(s.prompt_tokens);  // message_start's stands
  EXPECT_FALSE(s.complete);       // only message_stop ends the stream
  EXPECT_EQ(delta("stop_sequence").finish_reason, "stop");
  EXPECT_EQ(delta("max_tokens").finish_reason, "length");
  EXPECT_EQ(delta("refusal").finish_reason, "content_filter");
}

TEST(LlmAnthropicProvider, MessageStopEndsTheStream) {
  const auto s = read("message_stop", {{"type", "message_stop"}});
  EXPECT_TRUE(s.complete);
  EXPECT_TRUE(s.last);
}

TEST(LlmAnthropicProvider, PingsBlockBoundariesAndUnknownEventsCarryNothing) {
  EXPECT_TRUE(carries_nothing(read("ping", {{"type", "ping"}})));
  EXPECT_TRUE(carries_nothing(
      read("content_block_start", {{"type", "content_block_start"},
                                   {"index", 0},
                                   {"content_block", {{"type", "text"}, {"text", ""}}}})));
  EXPECT_TRUE(
      carries_nothing(read("content_block_stop", {{"type", "content_block_stop"}, {"index", 0}})));
  EXPECT_TRUE(carries_nothing(read("future_event", {{"type", "future_event"}, {"x", 1}})));
}

TEST(LlmAnthropicProvider, AnErrorEventIsAnError) {
  const auto s = read(
      "error",
      {{"type", "error"}, {"error", {{"type", "overloaded_error"}, {"message", "Overloaded"}}}});
  EXPECT_EQ(s.error, "Overloaded (overloaded_error)");
  EXPECT_EQ(read("error", {{"type", "error"}}).error, "unknown error");
}

TEST(LlmAnthropicProvider, TheEventNameServesWhenTheDataNamesNoType) {
  EXPECT_TRUE(read("message_stop", json::object()).complete);
}

TEST(LlmAnthropicProvider, DataThatIsNotAnObjectIsMalformed) {
  EXPECT_FALSE(read_anthropic_event({"message_start", "{not json", ""}));
  EXPECT_FALSE(read_anthropic_event({"ping", "[1]", ""}));
}

TEST(LlmAnthropicProvider, ErrorBodies) {
  EXPECT_EQ(
      anthropic_error_message(
          R"({"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}})"),
      "invalid x-api-key (authentication_error)");
  EXPECT_FALSE(anthropic_error_message("<html>502</html>"));
  EXPECT_FALSE(anthropic_error_message(R"({"type":"error"})"));
}

// ---- over the wire --------------------------------------------------------------

std::string sse(std::string_view type, const json& data) {
  return "event: " + std::string(type) + "\ndata: " + data.dump() + "\n\n";
}

std::string text_delta(std::string_view text) {
  return sse("content_block_delta", {{"type", "content_block_delta"},
                                     {"index", 0},
                                     {"delta", {{"type", "text_delta"}, {"text", text}}}});
}

const std::string opening =
    sse("message_start",
        {{"type", "message_start"},
         {"message",
          {{"id", "msg_1"},
           {"usage",
            {{"input_tokens", 9}, {"cache_read_input_tokens", 2}, {"output_tokens", 1}}}}}}) +
    sse("content_block_start", {{"type", "content_block_start"},
                                {"index", 0},
                                {"content_block", {{"type", "text"}, {"text", ""}}}}) +
    sse("ping", {{"type", "ping"}});

const std::string closing =
    sse("content_block_stop", {{"type", "content_block_stop"}, {"index", 0}}) +
    sse("message_delta", {{"type", "message_delta"},
                          {"delta", {{"stop_reason", "max_tokens"}}},
                          {"usage", {{"output_tokens", 2}}}}) +
    sse("message_stop", {{"type", "message_stop"}});

outcome run(const fake_upstream& up) {
  anthropic_settings s;
  s.upstream.base_url = up.base_url();
  s.upstream.api_key = "sk-ant-test";
  s.upstream.first_token_timeout = 2000ms;
  s.upstream.idle_timeout = 2000ms;
  s.version = "2023-06-01";
  s.max_tokens = 321;
  generation_request r;
  r.model = "claude-test";
  r.messages = {{role::system, "Be brief."}, {role::user, "Hi"}};
  return run_generation(
      [&](curl_multi& multi) { return std::make_unique<anthropic_provider>(multi, s); },
      std::move(r));
}

TEST(LlmAnthropicProvider, StreamsTokensUsageAndTheFinishReason) {
  fake_upstream up([](int fd) {
    fake_upstream::send_stream_head(fd);
    fake_upstream::send_all(fd, opening + text_delta("Hel"));
    fake_upstream::send_all(fd, sse("ping", {{"type", "ping"}}) + text_delta("lo") + closing);
  });
  const auto o = run(up);
  EXPECT_EQ(tokens_of(o), "Hello");
  expect_done(o, "length", 11, 2);

  const auto& req = up.request();
  EXPECT_NE(req.find("POST /v1/messages HTTP/1.1"), std::string::npos);
  EXPECT_NE(req.find("x-api-key: sk-ant-test\r\n"), std::string::npos);
  EXPECT_NE(req.find("anthropic-version: 2023-06-01\r\n"), std::string::npos);
  EXPECT_EQ(req.find("Authorization"), std::string::npos);
  const auto body = json::parse(req.substr(req.find("\r\n\r\n") + 4));
  EXPECT_EQ(body["system"], "Be brief.");
  EXPECT_EQ(body["max_tokens"], 321);
  EXPECT_EQ(body["messages"], (json{{{"role", "user"}, {"content", "Hi"}}}));
}

TEST(LlmAnthropicProvider, AStreamWithoutMessageStopIsBroken) {
  fake_upstream up([](int fd) {
    fake_upstream::send_stream_head(fd);
    // Everything but the end: a stop reason is not the end of the stream.
    fake_upstream::send_all(fd, opening + text_delta("partial") +
                                    sse("message_delta", {{"type", "message_delta"},
                                                          {"delta", {{"stop_reason", "end_turn"}}},
                                                          {"usage", {{"output_tokens", 1}}}}));
  });
  const auto o = run(up);
  EXPECT_EQ(tokens_of(o), "partial");
  ASSERT_NE(error_of(o), nullptr);
  EXPECT_EQ(error_of(o)->kind, failure_kind::broken);
  EXPECT_EQ(error_of(o)->detail, "the LLM provider's stream ended before the answer was complete");
}

TEST(LlmAnthropicProvider, AnErrorEventMidStreamEndsIt) {
  fake_upstream up([](int fd) {
    fake_upstream::send_stream_head(fd);
    fake_upstream::send_all(
        fd,
        opening + text_delta("a") +
            sse("error", {{"type", "error"},
                          {"error", {{"type", "overloaded_error"}, {"message", "Overloaded"}}}}));
  });
  const auto o = run(up);
  EXPECT_EQ(tokens_of(o), "a");
  ASSERT_NE(error_of(o), nullptr);
  EXPECT_EQ(error_of(o)->kind, failure_kind::broken);
  EXPECT_EQ(error_of(o)->detail,
            "the LLM provider reported an error: Overloaded (overloaded_error)");
}

TEST(LlmAnthropicProvider, AnOverloadedAnswerIsARefusal) {
  fake_upstream up([](int fd) {
    fake_upstream::send_json(
        fd, "529 Overloaded",
        R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})");
  });
  const auto o = run(up);
  ASSERT_EQ(o.events.size(), 1U);
  ASSERT_NE(error_of(o), nullptr);
  EXPECT_EQ(error_of(o)->kind, failure_kind::refused);
  EXPECT_EQ(error_of(o)->detail,
            "the LLM provider answered HTTP 529: Overloaded (overloaded_error)");
}

}  // namespace
}  // namespace parley::llm
