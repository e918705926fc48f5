#include "llm/anthropic_provider.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <vector>

#include "base/json.hpp"

namespace parley::llm {

namespace {

using nlohmann::json;

// Anthropic's temperature runs from 0 to 1, OpenAI's (which clients send) to 2.
constexpr double max_temperature = 1.0;

std::optional<std::string> string_at(const json& object, const char* key) {
  const auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return std::nullopt;
  return without_nul(it->get<std::string>());
}

const json* object_at(const json& object, const char* key) {
  const auto it = object.find(key);
  return it != object.end() && it->is_object() ? &*it : nullptr;
}

std::optional<std::int64_t> count_at(const json& object, const char* key) {
  const auto it = object.find(key);
  if (it == object.end() || !it->is_number_integer()) return std::nullopt;
  return it->get<std::int64_t>();
}

// The usage object of message_start (under "message") and message_delta.
void read_usage(const json* usage, stream_step& step) {
  if (usage == nullptr) return;
  const auto input = count_at(*usage, "input_tokens");
  if (input) {
    step.prompt_tokens = *input + count_at(*usage, "cache_creation_input_tokens").value_or(0) +
                         count_at(*usage, "cache_read_input_tokens").value_or(0);
  }
  step.completion_tokens = count_at(*usage, "output_tokens");
}

std::string finish_reason(const std::string& stop_reason) {
  if (stop_reason == "end_turn" || stop_reason == "stop_sequence") return "stop";
  if (stop_reason == "max_tokens") return "length";
  if (stop_reason == "refusal") return "content_filter";
  return stop_reason;  // tool_use, pause_turn: Parley asks for neither
}

// {"error":{"type":"overloaded_error","message":"Overloaded"}} → "Overloaded
// (overloaded_error)".
std::optional<std::string> error_text(const json& j) {
  const json* e = object_at(j, "error");
  if (e == nullptr) return std::nullopt;
  const auto message = string_at(*e, "message");
  const auto type = string_at(*e, "type");
  if (!message && !type) return "unknown error";
  if (!type) return message;
  if (!message) return type;
  return *message + " (" + *type + ")";
}

// The conversation as the Messages API takes it: no empty text, user and assistant
// alternating (consecutive messages of one role joined), the user first (an
// assistant turn before it, where the history window cut the conversation, is
// dropped).
std::vector<message> alternating(const std::vector<message>& prompt) {
  std::vector<message> out;
  for (const auto& m : prompt) {
    if (m.role == role::system || m.content.empty()) continue;
    if (out.empty() && m.role != role::user) continue;
    if (!out.empty() && out.back().role == m.role) {
      out.back().content += "\n\n" + m.content;
    } else {
      out.push_back(m);
    }
  }
  return out;
}

}  // namespace

std::string anthropic_request_body(const generation_request& request,
                                   std::int64_t default_max_tokens) {
  std::string system;
  for (const auto& m : request.messages) {
    if (m.role != role::system || m.content.empty()) continue;
    if (!system.empty()) system += "\n\n";
    system += m.content;
  }
  json messages = json::array();
  for (const auto& m : alternating(request.messages)) {
    messages.push_back({{"role", to_string(m.role)}, {"content", m.content}});
  }
  json body = {{"model", request.model},
               {"max_tokens", request.max_tokens.value_or(default_max_tokens)},
               {"messages", std::move(messages)},
               {"stream", true}};
  if (!system.empty()) body["system"] = std::move(system);
  if (request.temperature) {
    body["temperature"] = std::clamp(*request.temperature, 0.0, max_temperature);
  }
  return base::dump_json(body);
}

std::optional<stream_step> read_anthropic_event(const sse_event& event) {
  const auto j = json::parse(event.data, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  const auto type = string_at(j, "type").value_or(event.event);
  stream_step step;
  if (type == "content_block_delta") {
    const json* delta = object_at(j, "delta");
    // Only text is an answer: thinking, signatures and tool input are not.
    if (delta != nullptr && string_at(*delta, "type") == "text_delta") {
      step.text = string_at(*delta, "text").value_or("");
    }
  } else if (type == "message_start") {
    if (const json* m = object_at(j, "message")) read_usage(object_at(*m, "usage"), step);
  } else if (type == "message_delta") {
    if (const json* delta = object_at(j, "delta")) {
      if (const auto stop = string_at(*delta, "stop_reason"))
        step.finish_reason = finish_reason(*stop);
    }
    read_usage(object_at(j, "usage"), step);
  } else if (type == "message_stop") {
    step.complete = true;
    step.last = true;
  } else if (type == "error") {
    step.error = error_text(j).value_or("unknown error");
  }
  // ping, content_block_start, content_block_stop and any event type Anthropic adds
  // carry nothing for the answer; their bytes still count as activity.
  return step;
}

std::optional<std::string> anthropic_error_message(std::string_view body) {
  const auto j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  return error_text(j);
}

anthropic_provider::anthropic_provider(curl_multi& multi, anthropic_settings settings)
    : streaming_provider(multi, std::move(settings.upstream),
                         {&read_anthropic_event, &anthropic_error_message}),
      version_(std::move(settings.version)),
      max_tokens_(settings.max_tokens) {}

stream_request anthropic_provider::prepare(const generation_request& request,
                                           const std::string& api_key) const {
  stream_request call{"/messages",
                      {"anthropic-version: " + version_},
                      anthropic_request_body(request, max_tokens_),
                      {}};
  if (!api_key.empty()) call.headers.push_back("x-api-key: " + api_key);
  return call;
}

}  // namespace parley::llm
