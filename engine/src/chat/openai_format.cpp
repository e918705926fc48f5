#include "chat/openai_format.hpp"

#include "edge/crypto.hpp"
#include "obs/log.hpp"

namespace parley::chat {

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

bool is_continuation_byte(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

}  // namespace

std::string new_completion_id() {
  static constexpr char hex[] = "0123456789abcdef";
  std::string id = "chatcmpl-";
  for (const char b : edge::random_bytes(12)) {
    id += hex[(static_cast<unsigned char>(b) >> 4) & 0xF];
    id += hex[static_cast<unsigned char>(b) & 0xF];
  }
  return id;
}

std::string snippet_of(std::string_view text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  std::size_t cut = max_bytes;
  while (cut > 0 && is_continuation_byte(text[cut])) --cut;
  const auto space = text.substr(0, cut).find_last_of(" \n\t");
  if (space != std::string_view::npos && space > max_bytes / 2) cut = space;
  auto out = std::string(text.substr(0, cut));
  while (!out.empty() && (out.back() == ' ' || out.back() == '\n' || out.back() == '\t'))
    out.pop_back();
  return out + "\u2026";
}

std::vector<citation> citations_for(const std::vector<rag::retrieved_passage>& passages) {
  std::vector<citation> out;
  out.reserve(passages.size());
  for (std::size_t i = 0; i < passages.size(); ++i) {
    const auto& p = passages[i];
    out.push_back({static_cast<int>(i + 1), p.document_id, p.title, p.source_uri, p.ordinal,
                   p.score, snippet_of(p.content)});
  }
  return out;
}

json citations_json(const std::vector<citation>& citations) {
  json out = json::array();
  for (const auto& c : citations) {
    out.push_back({{"index", c.index},
                   {"document_id", c.document_id},
                   {"title", c.title},
                   {"source_uri", c.source_uri},
                   {"chunk", c.chunk},
                   {"score", c.score},
                   {"snippet", c.snippet}});
  }
  return out;
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
                 const std::vector<citation>& citations) {
  auto j = with_choice(m, json::object(), finish_reason);
  j["citations"] = citations_json(citations);
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
                       const std::vector<citation>& citations) {
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
          {"citations", citations_json(citations)}};
}

json stream_error(std::string_view message) {
  return {{"error", {{"message", message}, {"type", "server_error"}, {"code", "upstream_error"}}}};
}

std::string sse_data(const json& payload) { return "data: " + obs::dump(payload) + "\n\n"; }

}  // namespace parley::chat
