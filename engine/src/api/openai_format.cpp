#include "api/openai_format.hpp"

#include "base/crypto.hpp"
#include "base/json.hpp"
#include "rag/citation_json.hpp"

namespace parley::api {

namespace {

using nlohmann::json;

json chunk_base(const completion_meta& m) {
  json j = {{"id", m.id},
            {"object", "chat.completion.chunk"},
            {"created", m.created},
            {"model", m.model},
            {"system_fingerprint", nullptr}};
  return j;
}

json with_choice(const completion_meta& m, json delta, json finish_reason) {
  auto j = chunk_base(m);
  j["choices"] = json::array({{{"index", 0},
                               {"delta", std::move(delta)},
                               {"logprobs", nullptr},
                               {"finish_reason", std::move(finish_reason)}}});
  if (m.include_usage) j["usage"] = nullptr;
  return j;
}

}  // namespace

std::string new_completion_id() {
  static constexpr char hex[] = "0123456789abcdef";
  std::string id = "chatcmpl-";
  for (const char b : base::random_bytes(12)) {
    id += hex[(static_cast<unsigned char>(b) >> 4) & 0xF];
    id += hex[static_cast<unsigned char>(b) & 0xF];
  }
  return id;
}

json usage_json(const llm::usage& u) {
  return {{"prompt_tokens", u.prompt_tokens},
          {"completion_tokens", u.completion_tokens},
          {"total_tokens", u.prompt_tokens + u.completion_tokens}};
}

json role_chunk(const completion_meta& m) {
  return with_choice(m, {{"role", "assistant"}, {"content", ""}, {"refusal", nullptr}}, nullptr);
}

json content_chunk(const completion_meta& m, std::string_view text) {
  return with_choice(m, {{"content", text}}, nullptr);
}

json final_chunk(const completion_meta& m, std::string_view finish_reason,
                 const std::vector<rag::citation>& citations) {
  auto j = with_choice(m, json::object(), finish_reason);
  j["citations"] = rag::citations_json(citations);
  return j;
}

json usage_chunk(const completion_meta& m, const llm::usage& u) {
  auto j = chunk_base(m);
  j["choices"] = json::array();
  j["usage"] = usage_json(u);
  return j;
}

json completion_object(const completion_meta& m, std::string_view content,
                       std::string_view finish_reason, const llm::usage& u,
                       const std::vector<rag::citation>& citations) {
  return {{"id", m.id},
          {"object", "chat.completion"},
          {"created", m.created},
          {"model", m.model},
          {"system_fingerprint", nullptr},
          {"choices",
           json::array(
               {{{"index", 0},
                 {"message", {{"role", "assistant"}, {"content", content}, {"refusal", nullptr}}},
                 {"logprobs", nullptr},
                 {"finish_reason", finish_reason}}})},
          {"usage", usage_json(u)},
          {"citations", rag::citations_json(citations)}};
}

json stream_error(std::string_view code, std::string_view message) {
  return {{"error", {{"message", message}, {"type", "server_error"}, {"code", code}}}};
}

std::string sse_data(const json& payload) { return "data: " + base::dump_json(payload) + "\n\n"; }

content_frames::content_frames(const completion_meta& m) {
  static constexpr std::string_view empty_content = "\"content\":\"\"";
  const auto frame = sse_data(content_chunk(m, ""));
  const auto at = frame.find(empty_content);  // the id and model cannot hold quotes unescaped
  const auto text_at = at + empty_content.size() - 2;
  prefix_ = frame.substr(0, text_at);
  suffix_ = frame.substr(text_at + 2);
}

std::string content_frames::frame(std::string_view text) const {
  const auto quoted = base::dump_json(json(text));
  std::string out;
  out.reserve(prefix_.size() + quoted.size() + suffix_.size());
  return out.append(prefix_).append(quoted).append(suffix_);
}

}  // namespace parley::api
