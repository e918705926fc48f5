#include "rag/pdf_text.hpp"

#include <poppler/cpp/poppler-document.h>
#include <poppler/cpp/poppler-global.h>
#include <poppler/cpp/poppler-page.h>

#include <climits>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "rag/sections.hpp"

namespace parley::rag {

namespace {

std::mutex poppler_mutex;

// poppler reports every damaged object it meets on stderr; a refusal says what
// matters, and the engine's log is JSON lines that stray text would break.
void ignore_poppler_message(const std::string& /*message*/, void* /*closure*/) {}

std::string utf8(const poppler::ustring& text) {
  const auto bytes = text.to_utf8();
  return std::string(bytes.begin(), bytes.end());
}

// poppler separates pages with form feeds and pads lines with spaces.
std::string page_text(std::string_view raw) {
  std::vector<std::string> lines;
  for (auto line : split_lines(raw)) {
    while (!line.empty() && line.front() == '\f') line.remove_prefix(1);
    lines.emplace_back(line);
  }
  return join_paragraphs(lines);
}

std::string trimmed(std::string s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return {};
  return s.substr(first, s.find_last_not_of(" \t\r\n") - first + 1);
}

}  // namespace

extracted_document pdf_document(std::string_view pdf) {
  if (pdf.size() > static_cast<std::size_t>(INT_MAX)) {
    throw extract_error("the PDF is too large");
  }
  const std::lock_guard lock(poppler_mutex);
  static std::once_flag quiet;
  std::call_once(quiet, [] { poppler::set_debug_error_function(ignore_poppler_message, nullptr); });

  // load_from_raw_data reads `pdf` in place, without copying; it outlives `document`.
  const std::unique_ptr<poppler::document> document(
      poppler::document::load_from_raw_data(pdf.data(), static_cast<int>(pdf.size())));
  if (!document) throw extract_error("the PDF cannot be read (it is damaged)");
  // Checked first: a locked document has no catalog to count pages in.
  if (document->is_locked()) throw extract_error("the PDF is encrypted");
  if (document->pages() <= 0) throw extract_error("the PDF cannot be read (it is damaged)");

  extracted_document doc{content_format::pdf, "application/pdf", {}, {}};
  doc.title = trimmed(utf8(document->get_title()));
  for (int i = 0; i < document->pages(); ++i) {
    const std::unique_ptr<poppler::page> page(document->create_page(i));
    if (!page) continue;
    auto text =
        page_text(utf8(page->text(poppler::rectf(), poppler::page::non_raw_non_physical_layout)));
    if (text.empty()) continue;
    doc.sections.push_back({{}, i + 1, std::move(text)});
  }
  if (doc.sections.empty()) {
    throw extract_error(
        "the PDF has no text layer (scanned pages would need OCR, which Parley does not do)");
  }
  return doc;
}

}  // namespace parley::rag
