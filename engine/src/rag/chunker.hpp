#pragma once

// Splits text into overlapping windows of tokens (rag/text.hpp: a token is a word
// or one punctuation character), so that every chunk fits a prompt budget and a
// sentence cut by a boundary still appears whole in one of the two neighbours.
// Extracted documents are chunked section by section, so that a chunk's heading and
// page are exactly where its text comes from.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "rag/extracted.hpp"

namespace parley::rag {

struct text_chunk {
  std::string content;  // the original text from the first to the last token
  std::size_t token_count = 0;
};

// Windows of `chunk_tokens` tokens, each starting `chunk_tokens - overlap` tokens
// after the previous one; the last window ends at the last token. Throws
// std::invalid_argument unless 0 <= overlap < chunk_tokens.
std::vector<text_chunk> chunk_text(std::string_view text, std::size_t chunk_tokens,
                                   std::size_t overlap);

struct section_chunk {
  std::string content;
  std::size_t token_count = 0;
  std::string heading;  // the section's heading path
  int page = 0;         // the section's PDF page; 0 for other formats
};

// chunk_text over each section in order; no chunk spans two sections. Throws
// std::invalid_argument as chunk_text does.
std::vector<section_chunk> chunk_sections(const std::vector<extracted_section>& sections,
                                          std::size_t chunk_tokens, std::size_t overlap);

}  // namespace parley::rag
