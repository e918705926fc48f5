// multipart/form-data bodies as browsers and curl send them, parsed by GMime.

#include <gtest/gtest.h>

#include "http/api_error.hpp"
#include "http/multipart.hpp"

namespace parley::http {
namespace {

const std::string type = "multipart/form-data; boundary=----frontier42";

std::string part(std::string_view headers, std::string_view body) {
  return "------frontier42\r\n" + std::string(headers) + "\r\n\r\n" + std::string(body) + "\r\n";
}

std::string closing() { return "------frontier42--\r\n"; }

std::string refusal_code(std::string_view content_type, std::string_view body) {
  try {
    parse_form_data(content_type, body);
  } catch (const api_error& e) {
    EXPECT_EQ(e.status(), 400u);
    return e.code();
  }
  return "accepted";
}

TEST(FormData, ReadsFieldsAndFilesInOrder) {
  const std::string body =
      part("Content-Disposition: form-data; name=\"title\"", "Leave policy") +
      part(
          "Content-Disposition: form-data; name=\"file\"; filename=\"leave.md\"\r\n"
          "Content-Type: text/markdown",
          "# Leave\n\nTwenty days.") +
      closing();
  const auto parts = parse_form_data(type, body);
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[0].name, "title");
  EXPECT_EQ(parts[0].body, "Leave policy");
  EXPECT_FALSE(parts[0].filename.has_value());
  EXPECT_EQ(parts[0].content_type, "");
  EXPECT_EQ(parts[1].name, "file");
  EXPECT_EQ(parts[1].filename, "leave.md");
  EXPECT_EQ(parts[1].content_type, "text/markdown");
  EXPECT_EQ(parts[1].body, "# Leave\n\nTwenty days.");
}

TEST(FormData, KeepsBinaryBytesExactly) {
  std::string bytes = "%PDF-1.7\r\n";
  for (int i = 0; i < 256; ++i) bytes += static_cast<char>(i);
  bytes += "\r\n--not-the-boundary\r\n\r\n";
  const std::string body =
      part(
          "Content-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n"
          "Content-Type: application/pdf",
          bytes) +
      closing();
  const auto parts = parse_form_data(type, body);
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_EQ(parts[0].body, bytes);
}

TEST(FormData, DecodesExtendedFileNames) {
  const std::string body =
      part("Content-Disposition: form-data; name=\"file\"; filename*=UTF-8''na%C3%AFve.txt", "x") +
      closing();
  EXPECT_EQ(parse_form_data(type, body).at(0).filename, "na\xC3\xAFve.txt");
}

TEST(FormData, AcceptsTheMediaTypeInAnyCase) {
  EXPECT_TRUE(is_form_data("Multipart/Form-Data; boundary=x"));
  EXPECT_TRUE(is_form_data("multipart/form-data"));
  EXPECT_FALSE(is_form_data("multipart/form-database"));
  EXPECT_FALSE(is_form_data("application/json"));
}

TEST(FormData, RefusesWhatIsNotAFormBody) {
  const std::string ok =
      part("Content-Disposition: form-data; name=\"file\"; filename=\"a.txt\"", "x") + closing();
  EXPECT_EQ(refusal_code("application/json", ok), "invalid_multipart");
  EXPECT_EQ(refusal_code("multipart/form-data", ok), "invalid_multipart");  // no boundary
  EXPECT_EQ(refusal_code(type + "\r\nX-Injected: 1", ok), "invalid_multipart");
  // cut short: no closing boundary
  EXPECT_EQ(refusal_code(type, part("Content-Disposition: form-data; name=\"file\"", "x")),
            "invalid_multipart");
  // a part that is not form-data, or has no name
  EXPECT_EQ(
      refusal_code(type, part("Content-Disposition: attachment; name=\"file\"", "x") + closing()),
      "invalid_multipart");
  EXPECT_EQ(refusal_code(type, part("Content-Disposition: form-data", "x") + closing()),
            "invalid_multipart");
  EXPECT_EQ(refusal_code(type, closing()), "invalid_multipart");
  // a nested multipart
  const std::string nested = part(
                                 "Content-Disposition: form-data; name=\"file\"\r\n"
                                 "Content-Type: multipart/mixed; boundary=inner",
                                 "--inner\r\n\r\nx\r\n--inner--") +
                             closing();
  EXPECT_EQ(refusal_code(type, nested), "invalid_multipart");
}

}  // namespace
}  // namespace parley::http
