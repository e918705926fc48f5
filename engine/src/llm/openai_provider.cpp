#include "llm/openai_provider.hpp"

#include <nlohmann/json.hpp>

#include "base/json.hpp"

namespace parley::llm {

namespace {

using nlohmann::json;

std::optional<stream_step> read_openai_event(const sse_event& event) {
  stream_step step;
  if (event.data == "[DONE]") {
    step.complete = true;
    step.last = true;
    return step;
  }
  auto chunk = parse_openai_chunk(event.data);
  if (!chunk) return std::nullopt;
  step.text = std::move(chunk->content);
  step.finish_reason = std::move(chunk->finish_reason);
  step.error = std::move(chunk->error);
  if (chunk->usage) {
    step.prompt_tokens = chunk->usage->prompt_tokens;
    step.completion_tokens = chunk->usage->completion_tokens;
  }
  // A finish reason ends the answer; the usage chunk and [DONE] may still follow.
  step.complete = step.finish_reason.has_value();
  return step;
}

}  // namespace

std::string openai_request_body(const generation_request& request) {
  json messages = json::array();
  for (const auto& m : request.messages) {
    messages.push_back({{"role", to_string(m.role)}, {"content", m.content}});
  }
  json body = {{"model", request.model},
               {"messages", std::move(messages)},
               {"stream", true},
               // Always: usage is how every call gets accounted, whatever the client asked.
               {"stream_options", {{"include_usage", true}}}};
  if (request.temperature) body["temperature"] = *request.temperature;
  if (request.max_tokens) body["max_tokens"] = *request.max_tokens;
  return base::dump_json(body);
}

std::optional<std::string> openai_error_message(std::string_view body) {
  const auto j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  const auto e = j.find("error");
  if (e == j.end()) return std::nullopt;
  if (e->is_string()) return without_nul(e->get<std::string>());
  if (e->is_object() && e->contains("message") && (*e)["message"].is_string()) {
    return without_nul((*e)["message"].get<std::string>());
  }
  return std::nullopt;
}

openai_provider::openai_provider(curl_multi& multi, openai_settings settings)
    : streaming_provider(multi, std::move(settings), {&read_openai_event, &openai_error_message}) {}

stream_request openai_provider::prepare(const generation_request& request,
                                        const std::string& api_key) const {
  stream_request call{"/chat/completions", {}, openai_request_body(request), {}};
  if (!api_key.empty()) call.headers.push_back("Authorization: Bearer " + api_key);
  return call;
}

}  // namespace parley::llm
