#include "rag/chunker.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "rag/text.hpp"

namespace parley::rag {
namespace {

std::string numbered_words(int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += (i ? " w" : "w") + std::to_string(i);
  return s;
}

TEST(RagChunker, ShortTextIsOneChunkKeepingOriginalSpacing) {
  const auto chunks = chunk_text("  Leave policy:\n\nTwenty days.  ", 500, 50);
  ASSERT_EQ(chunks.size(), 1U);
  EXPECT_EQ(chunks[0].content, "Leave policy:\n\nTwenty days.");
  EXPECT_EQ(chunks[0].token_count, 6U);  // Leave policy : Twenty days .
}

TEST(RagChunker, WindowsHaveTheConfiguredSizeAndOverlap) {
  const auto text = numbered_words(25);
  const auto chunks = chunk_text(text, 10, 3);
  // Windows start every 7 tokens: 0..9, 7..16, 14..23, 21..24.
  ASSERT_EQ(chunks.size(), 4U);
  EXPECT_EQ(chunks[0].token_count, 10U);
  EXPECT_EQ(chunks[2].token_count, 10U);
  EXPECT_EQ(chunks[3].token_count, 4U);
  EXPECT_TRUE(chunks[0].content.starts_with("w0 "));
  EXPECT_TRUE(chunks[0].content.ends_with(" w9"));
  EXPECT_TRUE(chunks[1].content.starts_with("w7 "));  // w7..w9 repeated: the overlap
  EXPECT_TRUE(chunks[1].content.ends_with(" w16"));
  EXPECT_EQ(chunks[3].content, "w21 w22 w23 w24");
}

TEST(RagChunker, EveryTokenIsCovered) {
  const auto text = numbered_words(1234);
  const auto chunks = chunk_text(text, 100, 10);
  std::size_t covered = 0;
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    EXPECT_LE(chunks[i].token_count, 100U);
    EXPECT_EQ(tokenize(chunks[i].content).size(), chunks[i].token_count);
    covered += chunks[i].token_count - (i == 0 ? 0 : 10);
  }
  EXPECT_EQ(covered, 1234U);
  EXPECT_TRUE(chunks.back().content.ends_with("w1233"));
}

TEST(RagChunker, ExactMultipleDoesNotEmitAnOverlapOnlyChunk) {
  const auto chunks = chunk_text(numbered_words(19), 10, 1);  // 0..9, 9..18
  ASSERT_EQ(chunks.size(), 2U);
  EXPECT_EQ(chunks[1].token_count, 10U);
}

TEST(RagChunker, EmptyTextHasNoChunks) {
  EXPECT_TRUE(chunk_text("", 500, 50).empty());
  EXPECT_TRUE(chunk_text(" \n ", 500, 50).empty());
}

TEST(RagChunker, PunctuationCountsAsTokens) {
  const auto chunks = chunk_text("a, b. c", 3, 0);
  ASSERT_EQ(chunks.size(), 2U);
  EXPECT_EQ(chunks[0].content, "a, b");
  EXPECT_EQ(chunks[1].content, ". c");
}

TEST(RagChunker, RejectsOverlapNotSmallerThanSize) {
  EXPECT_THROW(chunk_text("x", 10, 10), std::invalid_argument);
  EXPECT_THROW(chunk_text("x", 0, 0), std::invalid_argument);
  EXPECT_THROW(chunk_sections({}, 10, 10), std::invalid_argument);
}

TEST(RagChunker, SectionChunksNeverSpanTwoSections) {
  const std::vector<extracted_section> sections{
      {"Leave", 0, numbered_words(12)},
      {"Leave \u203A Parental", 0, "Sixteen weeks."},
      {"", 4, numbered_words(3)},
  };
  const auto chunks = chunk_sections(sections, 10, 2);
  // 12 words: 0..9 and 8..11; then one chunk for each short section.
  ASSERT_EQ(chunks.size(), 4U);
  EXPECT_EQ(chunks[0].heading, "Leave");
  EXPECT_EQ(chunks[1].heading, "Leave");
  EXPECT_EQ(chunks[1].content, "w8 w9 w10 w11");
  EXPECT_EQ(chunks[2].heading, "Leave \u203A Parental");
  EXPECT_EQ(chunks[2].content, "Sixteen weeks.");
  EXPECT_EQ(chunks[2].token_count, 3U);
  EXPECT_EQ(chunks[2].page, 0);
  EXPECT_EQ(chunks[3].heading, "");
  EXPECT_EQ(chunks[3].page, 4);
  EXPECT_EQ(chunks[3].content, "w0 w1 w2");
}

}  // namespace
}  // namespace parley::rag
