#include "rag/citation.hpp"

namespace parley::rag {

namespace {

bool is_continuation_byte(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

}  // namespace

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

std::vector<citation> citations_for(const std::vector<retrieved_passage>& passages) {
  std::vector<citation> out;
  out.reserve(passages.size());
  for (std::size_t i = 0; i < passages.size(); ++i) {
    const auto& p = passages[i];
    out.push_back({static_cast<int>(i + 1), p.document_id, p.title, p.source_uri, p.ordinal,
                   p.heading, p.page, p.score, snippet_of(p.content)});
  }
  return out;
}

}  // namespace parley::rag
