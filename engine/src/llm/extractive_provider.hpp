#pragma once

// The built-in offline provider: it calls no model. It answers by quoting the
// sentences of the retrieved passages that best match the question, each followed
// by its citation marker [n], and streams the answer in word-sized pieces like a
// real model would, so the whole pipeline (prompt, streaming, citations,
// accounting) works without network access or an API key.

#include "llm/provider.hpp"

namespace parley::llm {

// The answer text for `question` from `sources` (exposed for tests).
std::string extractive_answer(std::string_view question,
                              const std::vector<source_passage>& sources);

class extractive_provider final : public provider {
 public:
  std::unique_ptr<generation> start(generation_request request,
                                    asio::any_io_executor consumer) override;
};

}  // namespace parley::llm
