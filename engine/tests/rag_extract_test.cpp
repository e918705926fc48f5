#include "rag/extract.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

namespace parley::rag {
namespace {

std::string refusal(std::string_view bytes, std::string_view declared = {},
                    std::string_view name = {}) {
  try {
    extract(bytes, declared, name);
  } catch (const extract_error& e) {
    return e.what();
  }
  return "accepted";
}

TEST(RagExtract, PlainTextIsOneNormalisedSection) {
  const auto doc = extract("\xEF\xBB\xBFLine one  \r\nLine two\r\n\r\n\r\n\r\nNext paragraph\n");
  EXPECT_EQ(doc.format, content_format::text);
  EXPECT_EQ(doc.mime_type, "text/plain");
  EXPECT_EQ(doc.title, "");
  ASSERT_EQ(doc.sections.size(), 1U);
  EXPECT_EQ(doc.sections[0].heading, "");
  EXPECT_EQ(doc.sections[0].page, 0);
  EXPECT_EQ(doc.sections[0].text, "Line one\nLine two\n\nNext paragraph");
}

TEST(RagExtract, MarkdownIsReadInSections) {
  const auto doc = extract("# Leave\n\nTwenty **days**.\n## Parental\nSixteen weeks.\n");
  EXPECT_EQ(doc.format, content_format::markdown);
  EXPECT_EQ(doc.mime_type, "text/markdown");
  EXPECT_EQ(doc.title, "Leave");
  ASSERT_EQ(doc.sections.size(), 2U);
  EXPECT_EQ(doc.sections[0].text, "Leave\n\nTwenty days.");
  EXPECT_EQ(doc.sections[1].heading, "Leave \u203A Parental");
}

TEST(RagExtract, TheNameOrDeclaredTypeChoosesAmongTextFormats) {
  const std::string html = "<h1>Leave</h1><p>Twenty days.</p>";
  const auto by_name = extract(html, {}, "leave.html");
  EXPECT_EQ(by_name.format, content_format::html);
  EXPECT_EQ(by_name.mime_type, "text/html");
  EXPECT_EQ(by_name.title, "Leave");
  ASSERT_EQ(by_name.sections.size(), 1U);
  EXPECT_EQ(by_name.sections[0].text, "Leave\n\nTwenty days.");
  // Declared plain text is read as it is, tags and all.
  const auto declared = extract(html, "text/plain", "leave.html");
  EXPECT_EQ(declared.format, content_format::text);
  EXPECT_EQ(declared.sections[0].text, html);
}

TEST(RagExtract, PdfBytesArePdfWhateverIsDeclared) {
  std::ifstream in(std::string(PARLEY_TEST_DATA_DIR) + "/text.pdf", std::ios::binary);
  std::ostringstream pdf;
  pdf << in.rdbuf();
  ASSERT_FALSE(pdf.str().empty());
  const auto doc = extract(pdf.str(), "text/html", "page.html");
  EXPECT_EQ(doc.format, content_format::pdf);
  EXPECT_EQ(doc.mime_type, "application/pdf");
  ASSERT_EQ(doc.sections.size(), 2U);
  EXPECT_EQ(doc.sections[1].page, 3);
}

TEST(RagExtract, RefusalsSayWhy) {
  const std::string elf(
      "\x7f"
      "ELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x03\0\x3e\0\x01\0\0\0",
      24);
  EXPECT_EQ(refusal(elf, {}, "report.pdf"), "executables are not supported");
  const std::string png("\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0", 33);
  EXPECT_EQ(refusal(png, {}, "index.html"), "images are not supported");
  EXPECT_EQ(refusal(std::string("abc\0def", 7)), "text contains NUL bytes");
  EXPECT_NE(refusal("caf\xE9 latin-1").find("not valid UTF-8"), std::string::npos);
  EXPECT_EQ(refusal("%PDF-1.7 ..."), "the PDF cannot be read (it is damaged)");
}

TEST(RagExtract, RefusesDocumentsWithoutText) {
  EXPECT_EQ(refusal(""), "the document is empty");
  EXPECT_EQ(refusal("\xEF\xBB\xBF \n\n\t"), "the document is empty");
  EXPECT_EQ(refusal("# \n---\n"), "the document has no text");
  EXPECT_EQ(refusal("<html><script>x()</script><nav>Menu</nav></html>"),
            "the document has no text");
}

}  // namespace
}  // namespace parley::rag
