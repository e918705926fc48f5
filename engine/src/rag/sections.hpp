#pragma once

// Building the sections of an extracted document, shared by the Markdown and HTML
// readers: lines normalised the same way for every format, and the heading path that
// tells a chunk which part of the document it comes from.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "rag/extracted.hpp"

namespace parley::rag {

// Lines without their line ends (LF or CRLF).
std::vector<std::string_view> split_lines(std::string_view text);

// Joins lines with LF, trimming line ends and keeping at most one blank line in a
// row; leading and trailing blank lines are dropped.
std::string join_paragraphs(const std::vector<std::string>& lines);

// The headings open at a point of the document, outermost first.
class heading_trail {
 public:
  // A heading of `level` (1 is the top) closes the open headings of the same or a
  // deeper level; an empty heading closes them and opens nothing.
  void enter(int level, std::string text);

  // "Leave policy › Parental leave"; empty before the first heading.
  std::string path() const;

 private:
  std::vector<std::pair<int, std::string>> open_;
};

// Appends a section whose text is its heading line, a blank line and its body, so the
// heading's words stay searchable in the chunk. A section with an empty body is left
// out: a heading followed at once by its first subheading has nothing of its own.
void add_section(std::vector<extracted_section>& sections, std::string heading_path,
                 std::string_view heading, std::string body);

}  // namespace parley::rag
