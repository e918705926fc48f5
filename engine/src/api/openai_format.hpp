#pragma once

// The OpenAI wire shapes of chat completions (SPEC 4.1): stream chunks, the
// non-stream completion object, and the in-stream error, plus our one extension,
// "citations". Official OpenAI clients parse these unchanged, so the field names,
// nesting and nulls follow api.openai.com exactly.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "llm/provider.hpp"
#include "rag/citation.hpp"

namespace parley::api {

struct completion_meta {
  std::string id;  // "chatcmpl-..."
  std::int64_t created = 0;
  std::string model;           // what the client asked for: the agent code
  bool include_usage = false;  // streams carry "usage": null until the usage chunk
};

// "chatcmpl-" and 24 random hex digits.
std::string new_completion_id();

nlohmann::json usage_json(const llm::usage& u);

nlohmann::json role_chunk(const completion_meta& m);
nlohmann::json content_chunk(const completion_meta& m, std::string_view text);
nlohmann::json final_chunk(const completion_meta& m, std::string_view finish_reason,
                           const std::vector<rag::citation>& citations);
nlohmann::json usage_chunk(const completion_meta& m, const llm::usage& u);
nlohmann::json completion_object(const completion_meta& m, std::string_view content,
                                 std::string_view finish_reason, const llm::usage& u,
                                 const std::vector<rag::citation>& citations);
// {"error":{"message":...,"type":"server_error","code":...}}: what OpenAI sends
// when a stream fails after it began.
nlohmann::json stream_error(std::string_view code, std::string_view message);

// "data: <json>\n\n"; the dump replaces invalid UTF-8 instead of throwing.
std::string sse_data(const nlohmann::json& payload);

// One stream's content frames: sse_data(content_chunk(m, text)), byte for byte, but
// everything around the token's text is serialized once for the stream instead of
// once a token (a JSON object of maps, built and dumped for each of them).
class content_frames {
 public:
  explicit content_frames(const completion_meta& m);
  std::string frame(std::string_view text) const;

 private:
  std::string prefix_;  // up to and including "content":
  std::string suffix_;  // after the text's JSON string
};
inline constexpr std::string_view sse_done = "data: [DONE]\n\n";

}  // namespace parley::api
