#pragma once

// What an answer cites: the passages given to the model, numbered as the prompt
// numbers them ([1] is the first). Shown to API clients and widget visitors, and
// stored with the assistant's message.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "rag/knowledge_index.hpp"

namespace parley::rag {

struct citation {
  int index = 0;  // the [n] in the answer
  std::string document_id;
  std::string title;
  std::string source_uri;
  int chunk = 0;        // the chunk's position in its document
  std::string section;  // the heading path of the chunk's section; empty when none
  int page = 0;         // 1-based PDF page; 0 when the format has none
  double score = 0;
  std::string snippet;
};

// Citations for the passages given to the model, [1] first.
std::vector<citation> citations_for(const std::vector<retrieved_passage>& passages);

// The start of `text`, at most about `max_bytes`, cut at a word and a UTF-8 boundary.
std::string snippet_of(std::string_view text, std::size_t max_bytes = 200);

}  // namespace parley::rag
