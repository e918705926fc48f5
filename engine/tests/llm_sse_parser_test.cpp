#include "llm/sse_parser.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace parley::llm {
namespace {

std::vector<sse_event> parse_all(std::string_view stream) {
  sse_parser p;
  std::vector<sse_event> out;
  EXPECT_TRUE(p.feed(stream, out));
  return out;
}

const std::string openai_stream =
    ": keep-alive comment\n"
    "data: {\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}\n"
    "\n"
    "data: {\"choices\":[{\"delta\":{\"content\":\"lo\"}}]}\r\n"
    "\r\n"
    "event: custom\r"
    "id: 7\r"
    "data: first line\r"
    "data:second line\r"
    "\r"
    "data: [DONE]\n"
    "\n";

TEST(LlmSseParser, ParsesEventsCommentsAndLineEndings) {
  const auto events = parse_all(openai_stream);
  ASSERT_EQ(events.size(), 4U);
  EXPECT_EQ(events[0].data, R"({"choices":[{"delta":{"content":"Hel"}}]})");
  EXPECT_EQ(events[1].data, R"({"choices":[{"delta":{"content":"lo"}}]})");
  EXPECT_EQ(events[2].event, "custom");
  EXPECT_EQ(events[2].id, "7");
  EXPECT_EQ(events[2].data, "first line\nsecond line");  // multi-line data joined by LF
  EXPECT_EQ(events[3].data, "[DONE]");
}

TEST(LlmSseParser, AnySplitGivesTheSameEvents) {
  const auto whole = parse_all(openai_stream);
  // Every split point into two pieces, and byte-by-byte feeding.
  for (std::size_t cut = 0; cut <= openai_stream.size(); ++cut) {
    sse_parser p;
    std::vector<sse_event> out;
    ASSERT_TRUE(p.feed(std::string_view(openai_stream).substr(0, cut), out));
    ASSERT_TRUE(p.feed(std::string_view(openai_stream).substr(cut), out));
    ASSERT_EQ(out.size(), whole.size()) << "cut at " << cut;
    for (std::size_t i = 0; i < out.size(); ++i) EXPECT_EQ(out[i].data, whole[i].data) << cut;
  }
  sse_parser p;
  std::vector<sse_event> out;
  for (const char c : openai_stream) ASSERT_TRUE(p.feed(std::string_view(&c, 1), out));
  EXPECT_EQ(out.size(), whole.size());
}

TEST(LlmSseParser, CrlfSplitAcrossPiecesIsOneLineEnd) {
  sse_parser p;
  std::vector<sse_event> out;
  ASSERT_TRUE(p.feed("data: a\r", out));
  ASSERT_TRUE(p.feed("\ndata: b\r", out));
  ASSERT_TRUE(p.feed("\n\r", out));
  ASSERT_TRUE(p.feed("\n", out));
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(out[0].data, "a\nb");
}

TEST(LlmSseParser, IncompleteEventIsNotDispatched) {
  sse_parser p;
  std::vector<sse_event> out;
  ASSERT_TRUE(p.feed("data: partial\n", out));
  EXPECT_TRUE(out.empty());
  ASSERT_TRUE(p.feed("\n", out));
  EXPECT_EQ(out.size(), 1U);
}

TEST(LlmSseParser, FieldDetails) {
  const auto events = parse_all(
      "data\n\n"               // no colon: empty value
      "data:  two spaces\n\n"  // only one leading space is removed
      "event: only-event\n\n"  // no data: not dispatched
      "retry: 10\ndata: x\n\n");
  ASSERT_EQ(events.size(), 3U);
  EXPECT_EQ(events[0].data, "");
  EXPECT_EQ(events[1].data, " two spaces");
  EXPECT_EQ(events[2].data, "x");
  EXPECT_EQ(events[2].event, "");
}

TEST(LlmSseParser, LeadingBomIsIgnored) {
  const auto events = parse_all(
      "\xEF\xBB\xBF"
      "data: x\n\n");
  ASSERT_EQ(events.size(), 1U);
  EXPECT_EQ(events[0].data, "x");

  // The same, fed a byte at a time.
  sse_parser p;
  std::vector<sse_event> out;
  for (const char c : std::string_view("\xEF\xBB\xBF"
                                       "data: y\n\n"))
    ASSERT_TRUE(p.feed(std::string_view(&c, 1), out));
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(out[0].data, "y");
}

TEST(LlmSseParser, OversizedEventFails) {
  sse_parser p(16);
  std::vector<sse_event> out;
  EXPECT_FALSE(p.feed("data: " + std::string(100, 'x'), out));
  EXPECT_TRUE(p.failed());
  EXPECT_FALSE(p.feed("\n\n", out));
  EXPECT_TRUE(out.empty());
}

}  // namespace
}  // namespace parley::llm
