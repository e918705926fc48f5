#pragma once

// What an answer cites: the passages given to the model, numbered as the prompt
// numbers them ([1] is the first). Shown to API clients and widget visitors, and
// stored with the assistant's message.

#include <cstddef>
#include <cstdint>
#include <memory>
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

// The passages given to the model, held by their place in the index that found
// them until the answer ends, when they become citations. An answer streams for
// seconds to minutes, and copies of each passage's title, address and snippet were
// the largest part of what a waiting stream held; a reference costs a few bytes,
// and keeps that version of the index alive until the answer is done, outside the
// index cache's budget when a newer version or eviction replaced it meanwhile.
class cited_passages {
 public:
  cited_passages() = default;
  // `passages` must come from `index`'s search.
  cited_passages(std::shared_ptr<const knowledge_index> index,
                 const std::vector<retrieved_passage>& passages);

  std::size_t size() const noexcept { return cited_.size(); }
  // [1] first, as the prompt numbers them.
  std::vector<citation> citations() const;

 private:
  struct cited {
    std::uint32_t position = 0;
    double score = 0;
  };
  std::shared_ptr<const knowledge_index> index_;
  std::vector<cited> cited_;
};

// The start of `text`, at most about `max_bytes`, cut at a word and a UTF-8 boundary.
std::string snippet_of(std::string_view text, std::size_t max_bytes = 200);

}  // namespace parley::rag
