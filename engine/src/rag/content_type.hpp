#pragma once

// What a document is, decided by its content through libmagic. The declared media
// type and the file name's extension only choose among the text formats: a PDF
// declared as HTML is a PDF, and an executable named report.pdf is refused.
//
// libmagic's handles are not thread-safe; each thread uses its own, opened on its
// first call (the compiled magic database is loaded once per thread).

#include <string_view>

#include "rag/extracted.hpp"

namespace parley::rag {

// The format to read `bytes` as. Throws extract_error for what Parley does not read
// (images, executables, archives, office documents, compressed or other binary data)
// and for text that is not clean UTF-8 (NUL bytes, control characters, other
// encodings), and std::runtime_error if libmagic cannot be loaded.
//
// For text, a recognised `declared_type` (text/plain, text/markdown, text/html, with
// or without parameters) decides, then the extension of `file_name` (.txt, .md,
// .markdown, .html, .htm), then the text itself: HTML when it starts with a doctype
// or <html>, Markdown when it reads as Markdown (looks_like_markdown), else plain.
content_format detect_format(std::string_view bytes, std::string_view declared_type = {},
                             std::string_view file_name = {});

}  // namespace parley::rag
