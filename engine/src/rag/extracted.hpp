#pragma once

// What extraction produces, shared by the readers of each format (content_type,
// markdown_text, html_text, pdf_text) and by extract(), which picks the reader.

#include <stdexcept>
#include <string>
#include <vector>

namespace parley::rag {

enum class content_format { text, markdown, html, pdf };

struct extracted_section {
  std::string heading;  // heading path ("A › B"); empty before the first heading and for PDF
  int page = 0;         // 1-based PDF page; 0 for other formats
  std::string text;     // plain text of the section
};

struct extracted_document {
  content_format format = content_format::text;
  std::string mime_type;                    // text/plain, text/markdown, text/html, application/pdf
  std::string title;                        // <title>, first heading or PDF Title; empty when none
  std::vector<extracted_section> sections;  // sections with no text are left out
};

// A document Parley refuses; what() is a reason the user who uploaded it can read.
class extract_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace parley::rag
