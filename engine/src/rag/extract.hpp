#pragma once

// Text extraction for ingestion: plain text, Markdown, HTML and PDF, each read into
// sections of plain text. The type is decided by the content (rag/content_type.hpp):
// binary data, text that is not clean UTF-8 and formats Parley cannot read are
// refused with a reason the user can read, so nothing unreadable reaches the
// knowledge base.
//
// PDFs are read by poppler, which is not safe for concurrent use: callers run the
// extraction of PDFs on one thread (rag/pdf_text.hpp).

#include <string_view>

#include "rag/extracted.hpp"
#include "rag/markdown_text.hpp"

namespace parley::rag {

// `declared_type` (a media type, may be empty) and `file_name` (may be empty) only
// choose among the text formats. Throws extract_error with a reason a user can read,
// also when the document has no text at all.
extracted_document extract(std::string_view bytes, std::string_view declared_type = {},
                           std::string_view file_name = {});

}  // namespace parley::rag
