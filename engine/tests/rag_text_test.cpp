#include "rag/text.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace parley::rag {
namespace {

std::vector<std::string> token_texts(std::string_view text) {
  std::vector<std::string> out;
  for (const auto& t : tokenize(text)) out.emplace_back(text.substr(t.begin, t.end - t.begin));
  return out;
}

TEST(RagText, SplitsWordsAndPunctuation) {
  EXPECT_EQ(token_texts("Hello, world! It's 42."),
            (std::vector<std::string>{"Hello", ",", "world", "!", "It", "'", "s", "42", "."}));
}

TEST(RagText, WhitespaceIncludesUnicodeSpaces) {
  // U+00A0 no-break space and U+3000 ideographic space separate words.
  EXPECT_EQ(token_texts("a\xC2\xA0"
                        "b\xE3\x80\x80"
                        "c\n\td"),
            (std::vector<std::string>{"a", "b", "c", "d"}));
}

TEST(RagText, NonAsciiLettersStayInWords) {
  EXPECT_EQ(token_texts("Café déjà-vu"), (std::vector<std::string>{"Café", "déjà", "-", "vu"}));
}

TEST(RagText, UnicodePunctuationSeparates) {
  // Curly quotes and an em dash are punctuation tokens.
  EXPECT_EQ(
      token_texts("\xE2\x80\x9Chi\xE2\x80\x9D\xE2\x80\x94there"),
      (std::vector<std::string>{"\xE2\x80\x9C", "hi", "\xE2\x80\x9D", "\xE2\x80\x94", "there"}));
}

TEST(RagText, CjkIdeographsAreWordsOfTheirOwn) {
  EXPECT_EQ(token_texts("退款政策"), (std::vector<std::string>{"退", "款", "政", "策"}));
}

TEST(RagText, EmptyAndSpaceOnlyTextHasNoTokens) {
  EXPECT_TRUE(tokenize("").empty());
  EXPECT_TRUE(tokenize(" \n\t ").empty());
}

TEST(RagText, CountingTokensCountsWhatTokenizingMakes) {
  for (const std::string_view text :
       {"", " \n ", "Hello, world! It's 42.", "Café déjà-vu", "退款政策 refund",
        "bad \xFF\xC3 bytes", "\xE2\x80\x9Chi\xE2\x80\x9D\xE2\x80\x94there"}) {
    EXPECT_EQ(count_tokens(text), tokenize(text).size()) << text;
  }
  EXPECT_EQ(count_tokens("Hello, world!"), 4u);
}

TEST(RagText, ValidatesUtf8) {
  EXPECT_TRUE(valid_utf8("plain ascii"));
  EXPECT_TRUE(valid_utf8("Grüße 😀"));
  EXPECT_FALSE(valid_utf8("\xC3"));              // truncated
  EXPECT_FALSE(valid_utf8("\xC0\xAF"));          // overlong "/"
  EXPECT_FALSE(valid_utf8("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(valid_utf8("\xF4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(valid_utf8("\xFF"));
}

TEST(RagText, LowercasesLatinGreekCyrillic) {
  EXPECT_EQ(lowercase("ÉCOLE Straße ΑΒΓ ПРИВЕТ Ёж"), "école straße αβγ привет ёж");
}

TEST(RagText, WordsAreLowercaseWithoutStopwordsOrPunctuation) {
  EXPECT_EQ(words("What is the Refund policy, for Launches?"),
            (std::vector<std::string>{"refund", "policy", "launches"}));
  EXPECT_TRUE(words("Who are you?").empty());
}

TEST(RagText, TermsAreTheStemsOfTheWords) {
  const auto t = terms("What is the Refund policy, for Launches?");
  ASSERT_EQ(t.size(), 3U);  // stopwords and punctuation dropped, as by words()
  EXPECT_EQ(t, terms("refunds policies launch"));
  EXPECT_TRUE(terms("Who are you?").empty());
  EXPECT_TRUE(terms("the of and to in on at a an").empty());
}

TEST(RagText, InflectionsShareOneTerm) {
  EXPECT_EQ(stem("running"), stem("runs"));
  EXPECT_EQ(stem("running"), stem("run"));
  EXPECT_EQ(stem("connection"), stem("connected"));
  EXPECT_EQ(terms("Cells proliferated"), terms("cell proliferation"));
  EXPECT_NE(stem("refund"), stem("bakery"));
}

TEST(RagText, StemmingLeavesOtherScriptsAndNumbersUsable) {
  EXPECT_EQ(terms("退款 2024"), (std::vector<std::string>{"退", "款", "2024"}));
  EXPECT_EQ(terms("CAFÉS"), terms("cafés"));
}

TEST(RagText, StemmingIsSafeFromManyThreads) {
  const auto expected = terms("Running runners ran quickly through connected connections");
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      for (int n = 0; n < 2000; ++n) {
        if (terms("Running runners ran quickly through connected connections") != expected) {
          ++mismatches;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(mismatches.load(), 0);
}

}  // namespace
}  // namespace parley::rag
