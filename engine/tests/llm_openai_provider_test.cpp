#include "llm/openai_provider.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <future>

#include "llm_fake_upstream.hpp"

namespace parley::llm {
namespace {

using namespace std::chrono_literals;
using test_support::error_of;
using test_support::event_hook;
using test_support::expect_done;
using test_support::fake_upstream;
using test_support::outcome;
using test_support::run_generation;
using test_support::tokens_of;

std::string chunk(std::string_view content) {
  return "data: " +
         nlohmann::json{
             {"choices",
              {{{"index", 0}, {"delta", {{"content", content}}}, {"finish_reason", nullptr}}}}}
             .dump() +
         "\n\n";
}

const std::string finish_and_usage =
    "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"
    "data: "
    "{\"choices\":[],\"usage\":{\"prompt_tokens\":11,\"completion_tokens\":2,\"total_tokens\":13}}"
    "\n\n"
    "data: [DONE]\n\n";

generation_request make_request() {
  generation_request r;
  r.messages = {{role::system, "Be brief."}, {role::user, "Hi"}};
  r.model = "gpt-test";
  r.temperature = 0.2;
  return r;
}

// Runs a generation to its end; `after_event` may cancel, `start_delay` holds the
// consumer back.
outcome run(openai_settings settings, const event_hook& after_event = {},
            std::chrono::milliseconds start_delay = 0ms) {
  return run_generation(
      [&](curl_multi& multi) {
        return std::make_unique<openai_provider>(multi, std::move(settings));
      },
      make_request(), after_event, start_delay);
}

openai_settings settings_for(const fake_upstream& up) {
  openai_settings s;
  s.base_url = up.base_url();
  s.api_key = "sk-test-key";
  s.connect_timeout = 2000ms;
  s.first_token_timeout = 2000ms;
  s.idle_timeout = 2000ms;
  return s;
}

TEST(LlmOpenaiProvider, StreamsTokensAndUsage) {
  fake_upstream up([](int fd) {
    fake_upstream::send_stream_head(fd);
    fake_upstream::send_all(fd, ": keep-alive\n\n" + chunk("Hel"));
    std::this_thread::sleep_for(20ms);
    fake_upstream::send_all(fd, chunk("lo") + finish_and_usage);
  });
  const auto o = run(settings_for(up));
  EXPECT_EQ(tokens_of(o), "Hello");
  expect_done(o, "stop", 11, 2);

  const auto& req = up.request();
  EXPECT_NE(req.find("POST /v1/chat/completions HTTP/1.1"), std::string::npos);
  EXPECT_NE(req.find("Authorization: Bearer sk-test-key"), std::string::npos);
  const auto body = nlohmann::json::parse(req.substr(req.find("\r\n\r\n") + 4));
  EXPECT_EQ(body["model"], "gpt-test");
  EXPECT_EQ(body["stream"], true);
  EXPECT_EQ(body["stream_options"]["include_usage"], true);
  EXPECT_EQ(body["messages"][0]["role"], "system");
  EXPECT_EQ(body["messages"][1]["content"], "Hi");
}

TEST(LlmOpenaiProvider, HttpErrorBecomesAnErrorEvent) {
  fake_upstream up([](int fd) {
    fake_upstream::send_json(
        fd, "503 Service Unavailable",
        R"({"error":{"message":"The upstream is overloaded","type":"server_error"}})");
  });
  const auto o = run(settings_for(up));
  ASSERT_NE(error_of(o), nullptr);
  EXPECT_EQ(error_of(o)->detail, "the LLM provider answered HTTP 503: The upstream is overloaded");
  EXPECT_EQ(error_of(o)->kind, failure_kind::refused);
}

TEST(LlmOpenaiProvider, ConnectionRefused) {
  openai_settings s;
  {
    fake_upstream closed([](int) {});
    s.base_url = closed.base_url();
    // Connect once so the server thread ends; the port is closed afterwards.
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<std::uint16_t>(std::stoi(s.base_url.substr(17))));
    ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::close(fd);
  }
  const auto o = run(s);
  ASSERT_EQ(o.events.size(), 1U);
  ASSERT_NE(error_of(o), nullptr);
  EXPECT_EQ(error_of(o)->detail, "could not connect to the LLM provider");
  EXPECT_EQ(error_of(o)->kind, failure_kind::unreachable);
  EXPECT_FALSE(error_of(o)->reached_provider);  // nothing can have been billed
}

TEST(LlmOpenaiProvider, FirstTokenTimeout) {
  std::promise<void> release;
  auto released = release.get_future();
  fake_upstream up([&](int fd) {
    fake_upstream::send_stream_head(fd);
    released.wait_for(5s);
  });
  auto s = settings_for(up);
  s.first_token_timeout = 300ms;
  const auto started = std::chrono::steady_clock::now();
  const auto o = run(s);
  release.set_value();
  ASSERT_NE(error_of(o), nullptr);
  EXPECT_NE(error_of(o)->detail.find("first-token timeout"), std::string::npos);
  EXPECT_EQ(error_of(o)->kind, failure_kind::timeout);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
  EXPECT_GE(o.empty_waits, 3);  // next() returned empty-handed while waiting: heartbeat time
}

TEST(LlmOpenaiProvider, IdleTimeoutAfterTheFirstToken) {
  std::promise<void> release;
  auto released = release.get_future();
  fake_upstream up([&](int fd) {
    fake_upstream::send_stream_head(fd);
    fake_upstream::send_all(fd, chunk("Hi"));
    released.wait_for(5s);
  });
  auto s = settings_for(up);
  s.idle_timeout = 300ms;
  const auto o = run(s);
  release.set_value();
  EXPECT_EQ(tokens_of(o), "Hi");
  ASSERT_NE(error_of(o), nullptr);
  EXPECT_NE(error_of(o)->detail.find("idle timeout"), std::string::npos);
  EXPECT_EQ(error_of(o)->kind, failure_kind::timeout);
}

TEST(LlmOpenaiProvider, StreamCutMidwayIsAnError) {
  fake_upstream up([](int fd) {
    fake_upstream::send_stream_head(fd);
    fake_upstream::send_all(fd, chunk("partial"));
  });
  const auto o = run(settings_for(up));
  EXPECT_EQ(tokens_of(o), "partial");
  ASSERT_NE(error_of(o), nullptr);
  EXPECT_EQ(error_of(o)->detail, "the LLM provider's stream ended before the answer was complete");
  EXPECT_EQ(error_of(o)->kind, failure_kind::broken);
  EXPECT_TRUE(error_of(o)->reached_provider);
}

TEST(LlmOpenaiProvider, MalformedStreamIsAnError) {
  fake_upstream up([](int fd) {
    fake_upstream::send_stream_head(fd);
    fake_upstream::send_all(fd, "data: {not json\n\n");
  });
  const auto o = run(settings_for(up));
  ASSERT_NE(error_of(o), nullptr);
  EXPECT_EQ(error_of(o)->detail, "the LLM provider sent a malformed stream");
}

TEST(LlmOpenaiProvider, InStreamErrorObjectIsAnError) {
  fake_upstream up([](int fd) {
    fake_upstream::send_stream_head(fd);
    fake_upstream::send_all(
        fd, chunk("a") + "data: {\"error\":{\"message\":\"context too long\"}}\n\n");
  });
  const auto o = run(settings_for(up));
  ASSERT_NE(error_of(o), nullptr);
  EXPECT_EQ(error_of(o)->detail, "the LLM provider reported an error: context too long");
  EXPECT_EQ(error_of(o)->kind, failure_kind::broken);
}

TEST(LlmOpenaiProvider, CancelClosesTheUpstreamConnection) {
  std::promise<bool> upstream_saw_close;
  auto saw_close = upstream_saw_close.get_future();
  fake_upstream up([&](int fd) {
    fake_upstream::send_stream_head(fd);
    fake_upstream::send_all(fd, chunk("first"));
    // The engine must hang up: recv returns 0 (or fails) well before this timeout.
    timeval tv{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char c;
    const auto n = ::recv(fd, &c, 1, 0);
    upstream_saw_close.set_value(n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK));
  });
  const auto o = run(settings_for(up), [](generation& g, std::size_t) { g.cancel(); });
  ASSERT_EQ(o.events.size(), 2U);
  EXPECT_EQ(tokens_of(o), "first");
  ASSERT_NE(error_of(o), nullptr);
  EXPECT_EQ(error_of(o)->detail, "cancelled");
  EXPECT_EQ(error_of(o)->kind, failure_kind::cancelled);
  ASSERT_EQ(saw_close.wait_for(3s), std::future_status::ready);
  EXPECT_TRUE(saw_close.get());
}

TEST(LlmOpenaiProvider, SlowConsumerPausesWithoutLosingTokens) {
  constexpr int count = 20000;  // ~2 MB of stream, far above the queue bound
  fake_upstream up([](int fd) {
    fake_upstream::send_stream_head(fd);
    std::string batch;
    for (int i = 0; i < count; ++i) {
      batch += chunk(std::to_string(i) + ",");
      if (batch.size() > 64 * 1024) {
        fake_upstream::send_all(fd, batch);
        batch.clear();
      }
    }
    fake_upstream::send_all(fd, batch + finish_and_usage);
  });
  // The consumer starts late, so the queue fills and the transfer pauses.
  const auto o = run(settings_for(up), {}, 300ms);
  std::string expected;
  for (int i = 0; i < count; ++i) expected += std::to_string(i) + ",";
  EXPECT_EQ(tokens_of(o), expected);
  EXPECT_TRUE(std::holds_alternative<done_event>(o.events.back()));
}

// The message of an error body; the chunks of a stream are llm_openai_chunk_test's.
TEST(LlmOpenaiProvider, ErrorBodyMessage) {
  EXPECT_EQ(openai_error_message(R"({"error":{"message":"bad key"}})"), "bad key");
  EXPECT_EQ(openai_error_message(R"({"error":"bad\u0000 key"})"), "bad key");  // no NUL stored
  EXPECT_FALSE(openai_error_message("<html>502</html>"));
}

TEST(LlmOpenaiProvider, RequestBodyOmitsUnsetOptions) {
  generation_request r;
  r.messages = {{role::user, "q"}};
  r.model = "m";
  const auto body = nlohmann::json::parse(openai_request_body(r));
  EXPECT_FALSE(body.contains("temperature"));
  EXPECT_FALSE(body.contains("max_tokens"));
  r.max_tokens = 64;
  EXPECT_EQ(nlohmann::json::parse(openai_request_body(r))["max_tokens"], 64);
}

}  // namespace
}  // namespace parley::llm
