#include "rag/chunker.hpp"

#include <algorithm>
#include <stdexcept>

#include "rag/text.hpp"

namespace parley::rag {

namespace {

void check_window(std::size_t chunk_tokens, std::size_t overlap) {
  if (chunk_tokens == 0 || overlap >= chunk_tokens) {
    throw std::invalid_argument("chunking needs 0 <= overlap < chunk_tokens");
  }
}

}  // namespace

std::vector<text_chunk> chunk_text(std::string_view text, std::size_t chunk_tokens,
                                   std::size_t overlap) {
  check_window(chunk_tokens, overlap);
  const auto tokens = tokenize(text);
  std::vector<text_chunk> chunks;
  const std::size_t step = chunk_tokens - overlap;
  for (std::size_t first = 0; first < tokens.size(); first += step) {
    const std::size_t last = std::min(first + chunk_tokens, tokens.size());
    const auto begin = tokens[first].begin;
    const auto end = tokens[last - 1].end;
    chunks.push_back({std::string(text.substr(begin, end - begin)), last - first});
    // The window reached the end: another one would only repeat its overlap.
    if (last == tokens.size()) break;
  }
  return chunks;
}

std::vector<section_chunk> chunk_sections(const std::vector<extracted_section>& sections,
                                          std::size_t chunk_tokens, std::size_t overlap) {
  check_window(chunk_tokens, overlap);
  std::vector<section_chunk> chunks;
  for (const auto& section : sections) {
    for (auto& c : chunk_text(section.text, chunk_tokens, overlap)) {
      chunks.push_back({std::move(c.content), c.token_count, section.heading, section.page});
    }
  }
  return chunks;
}

}  // namespace parley::rag
