#pragma once

// HTML to plain text through gumbo (the WHATWG parsing algorithm, so tag soup reads
// as a browser would read it, entities decoded). Only the page's content is kept:
// scripts, styles, templates, forms, frames, SVG and the page's navigation, header,
// footer and asides are dropped. Block elements end lines, list items start with
// "- ", table cells are joined with " | ", and each heading h1-h6 starts a section
// headed by its heading path.

#include <string_view>

#include "rag/extracted.hpp"

namespace parley::rag {

// The title is <title>, else the first <h1>. `html` must be UTF-8. Throws
// extract_error for markup nested too deeply or holding too many formatting elements
// open: gumbo's time grows with the square of the nesting depth and with the open
// formatting elements, so a small upload of such tags could hold a thread for
// minutes. Even so gumbo needs about a second and a few hundred MB per MiB of dense
// markup: callers bound the size of the HTML they accept.
extracted_document html_document(std::string_view html);

}  // namespace parley::rag
