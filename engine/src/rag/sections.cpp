#include "rag/sections.hpp"

namespace parley::rag {

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const auto nl = text.find('\n', pos);
    const auto end = nl == std::string_view::npos ? text.size() : nl;
    auto line = text.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    if (nl == std::string_view::npos) break;
    pos = nl + 1;
  }
  return lines;
}

std::string join_paragraphs(const std::vector<std::string>& lines) {
  std::string out;
  bool blank_pending = false;
  for (const auto& raw : lines) {
    std::string_view line = raw;
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\f')) {
      line.remove_suffix(1);
    }
    if (line.empty()) {
      blank_pending = !out.empty();
      continue;
    }
    if (!out.empty()) out += blank_pending ? "\n\n" : "\n";
    blank_pending = false;
    out += line;
  }
  return out;
}

void heading_trail::enter(int level, std::string text) {
  while (!open_.empty() && open_.back().first >= level) open_.pop_back();
  if (!text.empty()) open_.emplace_back(level, std::move(text));
}

std::string heading_trail::path() const {
  std::string out;
  for (const auto& [level, text] : open_) {
    if (!out.empty()) out += " \u203A ";
    out += text;
  }
  return out;
}

void add_section(std::vector<extracted_section>& sections, std::string heading_path,
                 std::string_view heading, std::string body) {
  if (body.empty()) return;
  std::string text;
  if (!heading.empty()) {
    text.reserve(heading.size() + 2 + body.size());
    text.append(heading).append("\n\n");
  }
  text += body;
  sections.push_back({std::move(heading_path), 0, std::move(text)});
}

}  // namespace parley::rag
