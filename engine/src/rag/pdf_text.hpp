#pragma once

// PDF to plain text through poppler, one section per page with text, in reading
// order (as pdftotext prints it), so a chunk can cite its page.
//
// poppler is not safe for concurrent use (its global state and the error handler set
// here are process-wide): callers run PDF extraction on one thread. A process-wide
// mutex also serialises the calls, so a second thread would wait, never race.

#include <string_view>

#include "rag/extracted.hpp"

namespace parley::rag {

// The title is the document information's Title, when set. Throws extract_error when
// the PDF needs a password to open, has no text on any page (scanned pages), or
// cannot be parsed. A PDF with only an owner password (restrictions on printing or
// copying) opens without one and is read.
extracted_document pdf_document(std::string_view pdf);

}  // namespace parley::rag
