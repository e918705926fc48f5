#pragma once

// POST /v1/chat/completions, parsed at the door into a plain struct (SPEC 4.1).
// Everything the OpenAI clients send is accepted in its documented shape; what we
// cannot honour (tool messages, images, n > 1) is refused with a 400 rather than
// silently ignored. Unknown fields are ignored, as OpenAI-compatible servers do.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "chat/turn.hpp"

namespace parley::api {

using chat::chat_message;  // "developer" is read as system
using chat::message_role;

struct chat_request {
  std::string model;                   // the agent code
  std::vector<chat_message> messages;  // the last one is the user's question
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage
  std::optional<double> temperature;
  std::optional<std::int64_t> max_tokens;  // max_tokens or max_completion_tokens
  std::optional<std::string> user;
  std::optional<std::string> session_id;  // extension: continue a stored session (lowercase)
};

// Throws http::api_error (400 invalid_request_error) naming the offending field.
chat_request parse_chat_request(const nlohmann::json& body);

}  // namespace parley::api
