#include "rag/pdf_text.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

namespace parley::rag {
namespace {

// Made by tests/data/make_pdfs.py when the tests are built.
std::string test_pdf(const std::string& name) {
  const std::string path = std::string(PARLEY_TEST_DATA_DIR) + "/" + name;
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("missing test PDF " + path);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

std::string refusal(const std::string& pdf) {
  try {
    pdf_document(pdf);
  } catch (const extract_error& e) {
    return e.what();
  }
  return "accepted";
}

TEST(RagPdfText, OneSectionPerPageWithText) {
  const auto doc = pdf_document(test_pdf("text.pdf"));
  EXPECT_EQ(doc.format, content_format::pdf);
  EXPECT_EQ(doc.mime_type, "application/pdf");
  EXPECT_EQ(doc.title, "Staff handbook");
  ASSERT_EQ(doc.sections.size(), 2U);  // page 2 is blank
  EXPECT_EQ(doc.sections[0].page, 1);
  EXPECT_EQ(doc.sections[0].heading, "");
  EXPECT_EQ(doc.sections[0].text,
            "Leave policy\n"
            "Every employee has twenty days of paid leave.");
  EXPECT_EQ(doc.sections[1].page, 3);
  EXPECT_EQ(doc.sections[1].text, "Parental leave lasts sixteen weeks.");
}

TEST(RagPdfText, AnEmptyTitleIsNoTitle) {
  const auto doc = pdf_document(test_pdf("untitled.pdf"));
  EXPECT_EQ(doc.title, "");
  ASSERT_EQ(doc.sections.size(), 1U);
  EXPECT_EQ(doc.sections[0].text, "A page without a title.");
}

TEST(RagPdfText, OwnerPasswordOnlyStillReads) {
  const auto doc = pdf_document(test_pdf("restricted.pdf"));
  ASSERT_EQ(doc.sections.size(), 2U);
  EXPECT_EQ(doc.sections[1].text, "Parental leave lasts sixteen weeks.");
}

TEST(RagPdfText, RefusesWithAReason) {
  EXPECT_EQ(refusal(test_pdf("encrypted.pdf")), "the PDF is encrypted");
  EXPECT_EQ(refusal(test_pdf("image_only.pdf")),
            "the PDF has no text layer (scanned pages would need OCR, which Parley does not do)");
  EXPECT_EQ(refusal("%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R"),
            "the PDF cannot be read (it is damaged)");
  const auto text = test_pdf("text.pdf");
  EXPECT_EQ(refusal(text.substr(0, text.size() / 3)), "the PDF cannot be read (it is damaged)");
}

}  // namespace
}  // namespace parley::rag
