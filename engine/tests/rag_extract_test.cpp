#include "rag/extract.hpp"

#include <gtest/gtest.h>

#include <string>

namespace parley::rag {
namespace {

TEST(RagExtract, PlainTextIsNormalised) {
  const auto doc = extract("\xEF\xBB\xBFLine one  \r\nLine two\r\n\r\n\r\n\r\nNext paragraph\n");
  EXPECT_EQ(doc.format, content_format::text);
  EXPECT_EQ(doc.mime_type, "text/plain");
  EXPECT_EQ(doc.title, "");
  EXPECT_EQ(doc.text, "Line one\nLine two\n\nNext paragraph");
}

TEST(RagExtract, MarkdownIsDetectedByContentAndFlattened) {
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
  const auto doc = extract(md);
  EXPECT_EQ(doc.format, content_format::markdown);
  EXPECT_EQ(doc.mime_type, "text/markdown");
  EXPECT_EQ(doc.title, "Refund policy");
  EXPECT_EQ(doc.text,
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

TEST(RagExtract, ImagesKeepTheirAltText) {
  EXPECT_EQ(markdown_to_text("A ![rocket diagram](r.png) here"), "A rocket diagram here");
}

TEST(RagExtract, RefusesBinaryAndUnsupportedContent) {
  EXPECT_THROW(extract(std::string("abc\0def", 7)), extract_error);
  EXPECT_THROW(extract("%PDF-1.7 ..."), extract_error);
  EXPECT_THROW(extract("PK\x03\x04zipdata"), extract_error);
  EXPECT_THROW(extract("\x89PNG\r\n"), extract_error);
  EXPECT_THROW(extract("text with \x1b[31m escape"), extract_error);
  EXPECT_THROW(extract("  <!DOCTYPE html><html></html>"), extract_error);
}

TEST(RagExtract, RefusesInvalidUtf8WithAClearMessage) {
  try {
    extract("caf\xE9 latin-1");
    FAIL() << "invalid UTF-8 accepted";
  } catch (const extract_error& e) {
    EXPECT_NE(std::string(e.what()).find("UTF-8"), std::string::npos);
  }
}

TEST(RagExtract, RefusesEmptyDocuments) {
  EXPECT_THROW(extract(""), extract_error);
  EXPECT_THROW(extract(" \n\n\t"), extract_error);
  EXPECT_THROW(extract("# \n---\n"), extract_error);
}

}  // namespace
}  // namespace parley::rag
