#include "llm/openai_chunk.hpp"

#include <gtest/gtest.h>

namespace parley::llm {
namespace {

TEST(LlmOpenaiChunk, ReadsTheFieldsOfARealChunkAndIgnoresTheRest) {
  const auto c = parse_openai_chunk(
      R"({"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m",)"
      R"("system_fingerprint":null,"choices":[{"index":0,"delta":{"role":"assistant",)"
      R"("content":"Hel\"lo"},"logprobs":{"content":[{"token":"x"}]},"finish_reason":null}]})");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->content, "Hel\"lo");
  EXPECT_FALSE(c->finish_reason);
  EXPECT_FALSE(c->usage);
  EXPECT_FALSE(c->error);
}

TEST(LlmOpenaiChunk, ReadsTheUsageChunk) {
  const auto c = parse_openai_chunk(
      R"({"choices":[],"usage":{"prompt_tokens":512,"completion_tokens":20,"total_tokens":532,)"
      R"("prompt_tokens_details":{"cached_tokens":7}}})");
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->usage);
  EXPECT_EQ(c->usage->prompt_tokens, 512);
  EXPECT_EQ(c->usage->completion_tokens, 20);
  EXPECT_EQ(c->content, "");
  const auto empty = parse_openai_chunk(R"({"usage":{}})");
  ASSERT_TRUE(empty && empty->usage);
  EXPECT_EQ(empty->usage->prompt_tokens, 0);
  const auto huge = parse_openai_chunk(R"({"usage":{"prompt_tokens":18446744073709551615}})");
  ASSERT_TRUE(huge && huge->usage);
  EXPECT_EQ(huge->usage->prompt_tokens, std::numeric_limits<std::int64_t>::max());
  const auto fractional = parse_openai_chunk(R"({"usage":{"prompt_tokens":1.5}})");
  ASSERT_TRUE(fractional && fractional->usage);
  EXPECT_EQ(fractional->usage->prompt_tokens, 0);  // not an integer: not a count
}

TEST(LlmOpenaiChunk, OnlyTheFirstChoiceAndTheRightPlacesCount) {
  const auto c = parse_openai_chunk(
      R"({"content":"root","delta":{"content":"root delta"},)"
      R"("choices":[{"delta":{"content":"first","extra":{"content":"deeper"}},)"
      R"("finish_reason":"stop"},{"delta":{"content":"second"},"finish_reason":"length"}]})");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->content, "first");
  EXPECT_EQ(c->finish_reason, "stop");
  const auto not_strings =
      parse_openai_chunk(R"({"choices":[{"delta":{"content":7},"finish_reason":false}]})");
  ASSERT_TRUE(not_strings);
  EXPECT_EQ(not_strings->content, "");
  EXPECT_FALSE(not_strings->finish_reason);
  const auto choices_object = parse_openai_chunk(R"({"choices":{"delta":{"content":"x"}}})");
  ASSERT_TRUE(choices_object);
  EXPECT_EQ(choices_object->content, "");
}

// What the client is sent is what is stored, and PostgreSQL text holds no NUL.
TEST(LlmOpenaiChunk, TextLosesNulCharacters) {
  const auto c = parse_openai_chunk(
      R"({"choices":[{"delta":{"content":"a\u0000b\u0000"},"finish_reason":"st\u0000op"}]})");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->content, "ab");
  EXPECT_EQ(c->finish_reason, "stop");
  EXPECT_EQ(parse_openai_chunk(R"({"error":{"message":"over\u0000loaded"}})")->error, "overloaded");
}

TEST(LlmOpenaiChunk, AnInStreamErrorIsAllThatIsRead) {
  const auto message = parse_openai_chunk(
      R"({"choices":[{"delta":{"content":"x"}}],"error":{"message":"overloaded","code":529}})");
  ASSERT_TRUE(message);
  EXPECT_EQ(message->error, "overloaded");
  EXPECT_EQ(message->content, "");
  EXPECT_EQ(parse_openai_chunk(R"({"error":"rate limited"})")->error, "rate limited");
  EXPECT_EQ(parse_openai_chunk(R"({"error":{"code":500}})")->error, "unknown error");
  EXPECT_EQ(parse_openai_chunk(R"({"error":{"message":42}})")->error, "unknown error");
  EXPECT_EQ(parse_openai_chunk(R"({"error":500})")->error, "unknown error");
  EXPECT_EQ(parse_openai_chunk(R"({"error":["x"]})")->error, "unknown error");
  const auto null_error =
      parse_openai_chunk(R"({"error":null,"choices":[{"delta":{"content":"y"}}]})");
  ASSERT_TRUE(null_error);
  EXPECT_FALSE(null_error->error);
  EXPECT_EQ(null_error->content, "y");
}

TEST(LlmOpenaiChunk, AnythingButOneJsonObjectIsNoChunk) {
  EXPECT_FALSE(parse_openai_chunk(""));
  EXPECT_FALSE(parse_openai_chunk("\"text\""));
  EXPECT_FALSE(parse_openai_chunk("42"));
  EXPECT_FALSE(parse_openai_chunk("null"));
  EXPECT_FALSE(parse_openai_chunk("[{\"choices\":[]}]"));
  EXPECT_FALSE(parse_openai_chunk(R"({"choices":[{"delta":{"content":"x"}}])"));  // cut short
  EXPECT_FALSE(parse_openai_chunk(R"({"choices":[]} {"choices":[]})"));
  EXPECT_FALSE(parse_openai_chunk("{\"a\":\"\xff\"}"));  // not UTF-8
}

}  // namespace
}  // namespace parley::llm
