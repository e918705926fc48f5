#pragma once

// Markdown to plain text, in sections split at its headings. Not a full CommonMark
// parser: ATX headings ("## Title"), fenced code, lists, quotes, tables, links,
// images and emphasis are understood, which covers the documents a knowledge base
// is written in.

#include <string>
#include <string_view>

#include "rag/extracted.hpp"

namespace parley::rag {

// Markdown to plain text: markup removed, heading text kept as its own line, link
// text kept and targets dropped, code kept verbatim.
std::string markdown_to_text(std::string_view markdown);

// True when `text` reads as Markdown: a heading or a code fence, or two other signs
// (list items, quotes, links, bold, table rows).
bool looks_like_markdown(std::string_view text);

// The document's sections, one per heading (and one for any text before the first),
// each headed by its heading path; the title is the first heading. Headings inside
// code fences are code, not headings.
extracted_document markdown_document(std::string_view markdown);

}  // namespace parley::rag
