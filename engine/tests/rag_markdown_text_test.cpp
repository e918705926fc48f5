#include "rag/markdown_text.hpp"

#include <gtest/gtest.h>

#include <string>

namespace parley::rag {
namespace {

TEST(RagMarkdownText, MarkupIsFlattened) {
  const std::string md =
      "# Refund policy #\n"
      "\n"
      "Refunds are **fully** paid within _30 days_. See [the form](https://x.example/f).\n"
      "\n"
      "## How to ask\n"
      "* Write to `billing@acme.example`\n"
      "> Quoted note\n"
      "\n"
      "---\n"
      "| Plan | Days |\n"
      "|------|------|\n"
      "| Basic | 30 |\n"
      "```\n"
      "code_kept *as is*\n"
      "```\n"
      "[ref]: https://example.com\n"
      "snake_case and 2 * 3 stay\n";
  EXPECT_EQ(markdown_to_text(md),
            "Refund policy\n"
            "\n"
            "Refunds are fully paid within 30 days. See the form.\n"
            "\n"
            "How to ask\n"
            "\n"
            "- Write to billing@acme.example\n"
            "Quoted note\n"
            "\n"
            "Plan | Days\n"
            "\n"
            "Basic | 30\n"
            "\n"
            "code_kept *as is*\n"
            "\n"
            "snake_case and 2 * 3 stay");
}

TEST(RagMarkdownText, ImagesKeepTheirAltText) {
  EXPECT_EQ(markdown_to_text("A ![rocket diagram](r.png) here"), "A rocket diagram here");
}

TEST(RagMarkdownText, LooksLikeMarkdownNeedsAHeadingAFenceOrTwoSigns) {
  EXPECT_TRUE(looks_like_markdown("text\n## Heading\n"));
  EXPECT_TRUE(looks_like_markdown("```\ncode\n```\n"));
  EXPECT_TRUE(looks_like_markdown("- one\n- two\n"));
  EXPECT_FALSE(looks_like_markdown("- only one item\nand prose\n"));
  EXPECT_FALSE(looks_like_markdown("#hashtag is not a heading\n"));
}

TEST(RagMarkdownText, SectionsFollowTheHeadingPath) {
  const auto doc = markdown_document(
      "Before any heading.\n"
      "# Leave policy\n"
      "Twenty days a year.\n"
      "## Parental **leave**\n"
      "Sixteen weeks.\n"
      "### Adoption\n"
      "Also sixteen weeks.\n"
      "## Sick leave\n"
      "As needed.\n"
      "# Expenses\n"
      "Receipts required.\n");
  EXPECT_EQ(doc.format, content_format::markdown);
  EXPECT_EQ(doc.mime_type, "text/markdown");
  EXPECT_EQ(doc.title, "Leave policy");
  ASSERT_EQ(doc.sections.size(), 6U);
  EXPECT_EQ(doc.sections[0].heading, "");
  EXPECT_EQ(doc.sections[0].text, "Before any heading.");
  EXPECT_EQ(doc.sections[1].heading, "Leave policy");
  EXPECT_EQ(doc.sections[1].text, "Leave policy\n\nTwenty days a year.");
  EXPECT_EQ(doc.sections[2].heading, "Leave policy \u203A Parental leave");
  EXPECT_EQ(doc.sections[2].text, "Parental leave\n\nSixteen weeks.");
  EXPECT_EQ(doc.sections[3].heading, "Leave policy \u203A Parental leave \u203A Adoption");
  EXPECT_EQ(doc.sections[4].heading, "Leave policy \u203A Sick leave");
  EXPECT_EQ(doc.sections[5].heading, "Expenses");
  for (const auto& s : doc.sections) EXPECT_EQ(s.page, 0);
}

TEST(RagMarkdownText, HeadingsWithoutTextOfTheirOwnAreLeftOut) {
  const auto doc = markdown_document("# Handbook\n## Leave\nTwenty days.\n## Empty\n\n");
  ASSERT_EQ(doc.sections.size(), 1U);
  EXPECT_EQ(doc.sections[0].heading, "Handbook \u203A Leave");
  EXPECT_EQ(doc.title, "Handbook");
}

TEST(RagMarkdownText, HeadingsInCodeFencesAreCode) {
  const auto doc = markdown_document("# Shell\n```\n# not a heading\necho hi\n```\n");
  ASSERT_EQ(doc.sections.size(), 1U);
  EXPECT_EQ(doc.sections[0].heading, "Shell");
  EXPECT_EQ(doc.sections[0].text, "Shell\n\n# not a heading\necho hi");
}

}  // namespace
}  // namespace parley::rag
