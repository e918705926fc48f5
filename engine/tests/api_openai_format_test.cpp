#include "api/openai_format.hpp"

#include <gtest/gtest.h>

namespace parley::api {
namespace {

using nlohmann::json;

const completion_meta meta{"chatcmpl-abc", 1700000000, "support", false};

std::vector<rag::citation> one_citation() {
  return {{1, "doc-1", "Time off", "handbook/time-off.md", 0, "Leave \u203a Holidays", 3, 0.0328,
           "New employees get twenty days."}};
}

TEST(ApiOpenaiFormat, RoleChunk) {
  const auto j = role_chunk(meta);
  EXPECT_EQ(
      j, json::parse(R"({"id":"chatcmpl-abc","object":"chat.completion.chunk","created":1700000000,
    "model":"support","system_fingerprint":null,
    "choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,
                "finish_reason":null}]})"));
}

TEST(ApiOpenaiFormat, ContentChunk) {
  EXPECT_EQ(content_chunk(meta, "Hello"),
            json::parse(R"({"id":"chatcmpl-abc","object":"chat.completion.chunk",
    "created":1700000000,"model":"support","system_fingerprint":null,
    "choices":[{"index":0,"delta":{"content":"Hello"},"logprobs":null,"finish_reason":null}]})"));
}

TEST(ApiOpenaiFormat, FinalChunkCarriesCitations) {
  EXPECT_EQ(final_chunk(meta, "stop", one_citation()), json::parse(R"({"id":"chatcmpl-abc",
    "object":"chat.completion.chunk","created":1700000000,"model":"support","system_fingerprint":null,
    "choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}],
    "citations":[{"index":1,"document_id":"doc-1","title":"Time off","source_uri":"handbook/time-off.md",
                  "chunk":0,"section":"Leave \u203a Holidays","page":3,"score":0.0328,
                  "snippet":"New employees get twenty days."}]})"));
}

TEST(ApiOpenaiFormat, IncludeUsageAddsNullUsageThenAUsageChunk) {
  auto m = meta;
  m.include_usage = true;
  EXPECT_TRUE(content_chunk(m, "x").at("usage").is_null());
  EXPECT_EQ(usage_chunk(m, {10, 3}),
            json::parse(R"({"id":"chatcmpl-abc","object":"chat.completion.chunk",
    "created":1700000000,"model":"support","system_fingerprint":null,"choices":[],
    "usage":{"prompt_tokens":10,"completion_tokens":3,"total_tokens":13}})"));
  EXPECT_FALSE(content_chunk(meta, "x").contains("usage"));
}

TEST(ApiOpenaiFormat, CompletionObject) {
  EXPECT_EQ(completion_object(meta, "Twenty days [1].", "stop", {10, 4}, one_citation()),
            json::parse(R"({"id":"chatcmpl-abc","object":"chat.completion","created":1700000000,
    "model":"support","system_fingerprint":null,
    "choices":[{"index":0,"message":{"role":"assistant","content":"Twenty days [1].","refusal":null},
                "logprobs":null,"finish_reason":"stop"}],
    "usage":{"prompt_tokens":10,"completion_tokens":4,"total_tokens":14},
    "citations":[{"index":1,"document_id":"doc-1","title":"Time off","source_uri":"handbook/time-off.md",
                  "chunk":0,"section":"Leave \u203a Holidays","page":3,"score":0.0328,
                  "snippet":"New employees get twenty days."}]})"));
}

TEST(ApiOpenaiFormat, StreamErrorIsOpenAiShaped) {
  EXPECT_EQ(sse_data(stream_error("upstream_error", "The provider failed. Request id: r1.")),
            "data: {\"error\":{\"code\":\"upstream_error\",\"message\":\"The provider failed. "
            "Request id: r1.\","
            "\"type\":\"server_error\"}}\n\n");
}

TEST(ApiOpenaiFormat, SseFramesSurviveInvalidUtf8) {
  std::string frame;
  EXPECT_NO_THROW(frame = sse_data(content_chunk(meta, "bad \xC3\x28 byte")));
  EXPECT_TRUE(frame.starts_with("data: {"));
  EXPECT_TRUE(frame.ends_with("}\n\n"));
  EXPECT_NE(frame.find("\xEF\xBF\xBD"), std::string::npos);  // U+FFFD replaced the bad byte
  EXPECT_EQ(frame.find('\n'), frame.size() - 2);             // one line: no raw newline inside
  EXPECT_EQ(sse_done, "data: [DONE]\n\n");
}

TEST(ApiOpenaiFormat, ContentFramesAreTheContentChunksByteForByte) {
  completion_meta with_usage = meta;
  with_usage.include_usage = true;
  for (const auto& m : {meta, with_usage}) {
    const content_frames frames(m);
    for (const std::string_view text : {"Hello", "", "quote \" and \\ backslash",
                                        "line\nbreak\ttab", "caf\xC3\xA9 \xF0\x9F\x98\x80",
                                        "bad \xC3\x28 byte", "\x01 control", "\"content\":\"\""}) {
      EXPECT_EQ(frames.frame(text), sse_data(content_chunk(m, text))) << text;
    }
  }
}

TEST(ApiOpenaiFormat, CompletionIdsAreUniqueAndShaped) {
  const auto a = new_completion_id();
  const auto b = new_completion_id();
  EXPECT_NE(a, b);
  EXPECT_TRUE(a.starts_with("chatcmpl-"));
  EXPECT_EQ(a.size(), 9U + 24U);
}

}  // namespace
}  // namespace parley::api
