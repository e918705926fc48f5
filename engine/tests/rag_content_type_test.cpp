#include "rag/content_type.hpp"

#include <gtest/gtest.h>

#include <string>
#include <thread>

namespace parley::rag {
namespace {

// The start of a real PNG: signature and IHDR chunk, all libmagic needs.
const std::string png("\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0", 29);
// The start of an ELF executable (64-bit, little-endian, x86-64, ET_DYN).
const std::string elf(
    "\x7f"
    "ELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x03\0\x3e\0\x01\0\0\0",
    24);

std::string refusal(std::string_view bytes, std::string_view declared = {},
                    std::string_view name = {}) {
  try {
    detect_format(bytes, declared, name);
  } catch (const extract_error& e) {
    return e.what();
  }
  return "accepted";
}

TEST(RagContentType, ContentDecidesBinaryFormatsWhateverTheNameOrDeclaredType) {
  EXPECT_EQ(detect_format("%PDF-1.7\n%\xE2\xE3\xCF\xD3\n", "text/html", "page.html"),
            content_format::pdf);
  EXPECT_EQ(refusal(elf, "application/pdf", "report.pdf"), "executables are not supported");
  EXPECT_EQ(refusal(png, "text/html", "index.html"), "images are not supported");
}

TEST(RagContentType, RefusesArchivesCompressedAndOfficeFilesWithTheirReason) {
  const std::string empty_zip("PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 22);
  EXPECT_EQ(refusal(empty_zip, {}, "notes.txt"), "archives are not supported");
  const std::string gzip("\x1f\x8b\x08\0\0\0\0\0\0\x03", 10);
  EXPECT_EQ(refusal(gzip, {}, "notes.md"), "compressed files are not supported");
  EXPECT_EQ(refusal("{\\rtf1\\ansi hello}"),
            "office documents are not supported (save them as PDF, HTML or text)");
  EXPECT_EQ(refusal(std::string("\x01\x02\x03\xff\xfe\x00\x10", 7)),
            "binary files are not supported");
}

TEST(RagContentType, RefusesTextThatIsNotCleanUtf8) {
  EXPECT_EQ(refusal(std::string("abc\0def", 7), "text/plain", "a.txt"), "text contains NUL bytes");
  // libmagic judges only the start; a NUL further on is still found.
  EXPECT_EQ(refusal(std::string(70000, 'a') + std::string("\0b", 2)), "text contains NUL bytes");
  EXPECT_EQ(refusal("caf\xE9 cr\xE8me br\xFBl\xE9\x65"),
            "the text is not valid UTF-8 (it looks like iso-8859-1)");
  EXPECT_EQ(refusal("text with \x1b[31m escape"), "text contains control characters");
  EXPECT_EQ(refusal(""), "the document is empty");
}

TEST(RagContentType, DeclaredTypeChoosesAmongTextFormats) {
  const std::string text = "Just some words.\n";
  EXPECT_EQ(detect_format(text, "text/html; charset=utf-8"), content_format::html);
  EXPECT_EQ(detect_format(text, " Text/Markdown "), content_format::markdown);
  EXPECT_EQ(detect_format("# Heading\n", "text/plain", "a.md"), content_format::text);
  // A type that names no text format leaves the choice to the name.
  EXPECT_EQ(detect_format(text, "application/octet-stream", "a.md"), content_format::markdown);
}

TEST(RagContentType, ExtensionChoosesWhenNothingIsDeclared) {
  const std::string text = "Just some words.\n";
  EXPECT_EQ(detect_format(text, {}, "docs/Guide.HTM"), content_format::html);
  EXPECT_EQ(detect_format(text, {}, "a.markdown"), content_format::markdown);
  EXPECT_EQ(detect_format("# Heading\n", {}, "a.txt"), content_format::text);
  EXPECT_EQ(detect_format(text, {}, "archive.md.bak"), content_format::text);
}

TEST(RagContentType, TextIsSniffedWithoutDeclaredTypeOrName) {
  EXPECT_EQ(detect_format("  <!DOCTYPE html><p>x</p>"), content_format::html);
  EXPECT_EQ(detect_format("<HTML><body>x</body></HTML>"), content_format::html);
  EXPECT_EQ(detect_format("Intro\n\n## Details\nmore\n"), content_format::markdown);
  EXPECT_EQ(detect_format("Plain words, <b> is not enough.\n"), content_format::text);
}

TEST(RagContentType, EachThreadHasItsOwnHandle) {
  content_format seen = content_format::text;
  std::thread other([&] { seen = detect_format("%PDF-1.4\n"); });
  other.join();
  EXPECT_EQ(seen, content_format::pdf);
  EXPECT_EQ(detect_format("# Title\n"), content_format::markdown);
}

}  // namespace
}  // namespace parley::rag
