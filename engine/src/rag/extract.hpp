#pragma once

// Text extraction for ingestion. The type is decided by the content, never by the
// file name: binary data, invalid UTF-8 and formats we cannot read yet are refused
// with a message that says why, so nothing unreadable reaches the knowledge base.

#include <stdexcept>
#include <string>
#include <string_view>

namespace parley::rag {

enum class content_format { text, markdown };

struct extracted_document {
  content_format format = content_format::text;
  std::string mime_type;  // "text/plain" or "text/markdown"
  std::string title;      // the first Markdown heading; empty when there is none
  std::string text;       // normalised plain text (LF line ends, headings kept as lines)
};

class extract_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Detects the format of `bytes` and returns its plain text; throws extract_error for
// empty, binary, non-UTF-8 or unsupported (PDF, HTML, archives, images) content.
extracted_document extract(std::string_view bytes);

// Markdown to plain text: markup removed, heading text kept as its own line, link
// text kept and targets dropped, code kept verbatim.
std::string markdown_to_text(std::string_view markdown);

}  // namespace parley::rag
