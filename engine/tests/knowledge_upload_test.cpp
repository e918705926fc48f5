// What an upload may carry before anything is stored: names, titles and sizes.

#include <gtest/gtest.h>

#include "knowledge/upload.hpp"

namespace parley::knowledge {
namespace {

upload text_upload(std::string bytes) {
  upload u;
  u.bytes = std::move(bytes);
  u.file_name = "notes.txt";
  return u;
}

std::string refusal_code(const upload& u, std::size_t max_bytes = 1024) {
  try {
    inspect(u, max_bytes);
  } catch (const upload_error& e) {
    return e.code();
  }
  return "accepted";
}

TEST(FileName, KeepsOnlyTheLastComponentWithoutControls) {
  EXPECT_EQ(neutralise_file_name("../../etc/passwd"), "passwd");
  EXPECT_EQ(neutralise_file_name("C:\\Users\\me\\report.pdf"), "report.pdf");
  EXPECT_EQ(neutralise_file_name("evil\x01\x1b[31m.txt"), "evil[31m.txt");
  EXPECT_EQ(neutralise_file_name(".."), "");
  EXPECT_EQ(neutralise_file_name("dir/"), "");
  EXPECT_EQ(neutralise_file_name("caf\xC3\xA9.md"), "caf\xC3\xA9.md");
}

TEST(FileName, CutsLongNamesAtACharacter) {
  std::string name;
  for (int i = 0; i < 200; ++i) name += "\xC3\xA9";  // 400 bytes
  const auto out = neutralise_file_name(name);
  EXPECT_LE(out.size(), 255u);
  EXPECT_EQ(out.size() % 2, 0u);  // no half character left
}

TEST(Inspect, HashesAndTypesAcceptableText) {
  const auto got = inspect(text_upload("Plain words about kettles."), 1024);
  EXPECT_EQ(got.format, rag::content_format::text);
  EXPECT_EQ(got.mime_type, "text/plain");
  EXPECT_EQ(got.sha256.size(), 64u);
  EXPECT_EQ(got.file_name, "notes.txt");
}

TEST(Inspect, RefusesBadTitlesSizesAndContent) {
  EXPECT_EQ(refusal_code(text_upload(std::string(2000, 'a'))), "document_too_large");
  auto titled = text_upload("words");
  titled.title = "bad\ttitle";
  EXPECT_EQ(refusal_code(titled), "invalid_title");
  titled.title = "";
  EXPECT_EQ(refusal_code(titled), "invalid_title");
  titled.title = std::string(501, 't');
  EXPECT_EQ(refusal_code(titled), "invalid_title");
  auto sourced = text_upload("words");
  sourced.source_uri = "https://example.com/\n";
  EXPECT_EQ(refusal_code(sourced), "invalid_source_uri");
  EXPECT_EQ(refusal_code(text_upload(std::string("a\0b", 3))), "unsupported_document");
  EXPECT_EQ(refusal_code(text_upload("\x7F"
                                     "ELF\x02\x01\x01")),
            "unsupported_document");
}

}  // namespace
}  // namespace parley::knowledge
