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

cited_passages::cited_passages(std::shared_ptr<const knowledge_index> index,
                               const std::vector<retrieved_passage>& passages)
    : index_(std::move(index)) {
  cited_.reserve(passages.size());
  for (const auto& p : passages) cited_.push_back({p.position, p.score});
}

std::vector<citation> cited_passages::citations() const {
  std::vector<citation> out;
  out.reserve(cited_.size());
  for (std::size_t i = 0; i < cited_.size(); ++i) {
    const auto s = index_->source_of(cited_[i].position);
    out.push_back({static_cast<int>(i + 1), std::string(s.document_id), std::string(s.title),
                   std::string(s.source_uri), s.ordinal, std::string(s.heading), s.page,
                   cited_[i].score, snippet_of(s.content)});
  }
  return out;
}

}  // namespace parley::rag
