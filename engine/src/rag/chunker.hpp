#pragma once

// Splits text into overlapping windows of tokens (rag/text.hpp: a token is a word
// or one punctuation character), so that every chunk fits a prompt budget and a
// sentence cut by a boundary still appears whole in one of the two neighbours.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

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

}  // namespace parley::rag
