#include "rag/extract.hpp"

#include <string>
#include <vector>

#include "rag/content_type.hpp"
#include "rag/html_text.hpp"
#include "rag/pdf_text.hpp"
#include "rag/sections.hpp"

namespace parley::rag {

namespace {

extracted_document text_document(std::string_view text) {
  extracted_document doc{content_format::text, "text/plain", {}, {}};
  const auto lines = split_lines(text);
  add_section(doc.sections, {}, {},
              join_paragraphs(std::vector<std::string>(lines.begin(), lines.end())));
  return doc;
}

}  // namespace

extracted_document extract(std::string_view bytes, std::string_view declared_type,
                           std::string_view file_name) {
  const auto format = detect_format(bytes, declared_type, file_name);
  if (format == content_format::pdf) return pdf_document(bytes);
  if (bytes.starts_with("\xEF\xBB\xBF")) bytes.remove_prefix(3);  // the UTF-8 byte order mark
  if (bytes.find_first_not_of(" \t\r\n\f") == std::string_view::npos) {
    throw extract_error("the document is empty");
  }
  auto doc = format == content_format::html       ? html_document(bytes)
             : format == content_format::markdown ? markdown_document(bytes)
                                                  : text_document(bytes);
  if (doc.sections.empty()) throw extract_error("the document has no text");
  return doc;
}

}  // namespace parley::rag
