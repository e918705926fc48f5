#pragma once

// One "data:" payload of an OpenAI-compatible stream (a chat.completion.chunk, or
// an in-stream error), read for the few fields a turn uses. It is read once a
// token, so it is read as it is parsed (nlohmann's SAX interface): no JSON tree is
// built for fields nobody reads (ids, model, logprobs), which made most of a
// token's allocations.

#include <optional>
#include <string>
#include <string_view>

#include "llm/provider.hpp"

namespace parley::llm {

struct openai_chunk {
  std::string content;                       // choices[0].delta.content, NUL characters dropped
  std::optional<std::string> finish_reason;  // choices[0].finish_reason
  std::optional<llm::usage> usage;
  std::optional<std::string> error;  // an in-stream {"error":{...}}: then nothing else is set
};

// Parses one payload; nullopt if it is not a JSON object.
std::optional<openai_chunk> parse_openai_chunk(std::string_view data);

}  // namespace parley::llm
