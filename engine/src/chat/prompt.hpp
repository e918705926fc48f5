#pragma once

// The prompt for a grounded answer (SPEC 4.3): the agent's persona first, then the
// grounding rules, then the retrieved context, delimited and declared to be data
// (so instructions hidden in a document are not followed), then the recent
// conversation, then the question.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "llm/provider.hpp"
#include "rag/knowledge_index.hpp"

namespace parley::chat {

// How many earlier user/assistant messages go into the prompt.
inline constexpr std::size_t history_window = 10;

struct prompt_input {
  std::string persona;                           // the persona's system prompt; may be empty
  std::string agent_name;                        // used when there is no persona
  std::vector<std::string> instructions;         // system messages the client sent
  std::vector<rag::retrieved_passage> passages;  // [1] is passages[0]
  std::vector<llm::message> history;             // earlier turns, oldest first
  std::string question;
};

std::vector<llm::message> build_prompt(const prompt_input& in);

}  // namespace parley::chat
