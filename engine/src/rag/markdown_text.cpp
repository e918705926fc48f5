#include "rag/markdown_text.hpp"

#include <algorithm>
#include <cctype>
#include <span>
#include <tuple>
#include <vector>

#include "rag/sections.hpp"

namespace parley::rag {

namespace {

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t");
  return s.substr(first, last - first + 1);
}

// "# Title ##" -> heading level and text; level 0 when not an ATX heading.
std::pair<int, std::string_view> atx_heading(std::string_view line) {
  const auto t = trim(line);
  std::size_t level = 0;
  while (level < t.size() && t[level] == '#') ++level;
  if (level == 0 || level > 6) return {0, {}};
  if (level < t.size() && t[level] != ' ' && t[level] != '\t') return {0, {}};
  auto rest = trim(t.substr(level));
  while (!rest.empty() && rest.back() == '#') rest.remove_suffix(1);
  return {static_cast<int>(level), trim(rest)};
}

bool is_fence(std::string_view line) {
  const auto t = trim(line);
  return t.starts_with("```") || t.starts_with("~~~");
}

// "---", "***", "___", "===" (three or more, spaces allowed): rules and setext underlines.
bool is_rule(std::string_view line) {
  const auto t = trim(line);
  if (t.size() < 3) return false;
  const char c = t[0];
  if (c != '-' && c != '*' && c != '_' && c != '=') return false;
  return std::all_of(t.begin(), t.end(), [c](char x) { return x == c || x == ' '; });
}

// "|---|:---:|" table separator rows.
bool is_table_separator(std::string_view line) {
  const auto t = trim(line);
  if (t.empty() || t.find('-') == std::string_view::npos) return false;
  return std::all_of(t.begin(), t.end(),
                     [](char x) { return x == '|' || x == '-' || x == ':' || x == ' '; });
}

// "[id]: https://..." reference definitions carry only a link target.
bool is_link_definition(std::string_view line) {
  const auto t = trim(line);
  if (!t.starts_with('[')) return false;
  const auto close = t.find("]:");
  return close != std::string_view::npos && close > 1;
}

bool is_word_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || static_cast<unsigned char>(c) >= 0x80;
}

// Removes inline markup from one line: emphasis delimiters, code backticks, link and
// image syntax (keeping the visible text), backslash escapes.
std::string strip_inline(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '\\' && i + 1 < s.size() && std::ispunct(static_cast<unsigned char>(s[i + 1]))) {
      out.push_back(s[++i]);
      continue;
    }
    if (c == '`') continue;
    if ((c == '*' || c == '_') && i + 1 < s.size() && s[i + 1] == c) {
      ++i;
      continue;
    }
    if (c == '*' || c == '_') {
      // A delimiter touches a word on exactly one side; "2 * 3" and snake_case stay.
      const bool word_before = i > 0 && is_word_char(s[i - 1]);
      const bool word_after = i + 1 < s.size() && is_word_char(s[i + 1]);
      if (word_before != word_after) continue;
      out.push_back(c);
      continue;
    }
    if (c == '!' && i + 1 < s.size() && s[i + 1] == '[') continue;
    if (c == '[') {
      const auto close = s.find(']', i + 1);
      if (close != std::string_view::npos && close + 1 < s.size() && s[close + 1] == '(') {
        const auto paren = s.find(')', close + 2);
        if (paren != std::string_view::npos) {
          out += strip_inline(s.substr(i + 1, close - i - 1));
          i = paren;
          continue;
        }
      }
    }
    out.push_back(c);
  }
  return out;
}

// Bullets become "- ", blockquote markers go; the rest of the line is inline text.
std::string strip_block_prefix(std::string_view line) {
  auto t = line;
  const auto indent = t.find_first_not_of(" \t");
  if (indent == std::string_view::npos) return {};
  t = t.substr(indent);
  while (t.starts_with('>')) t = trim(t.substr(1));
  std::string prefix;
  if (t.size() >= 2 && (t[0] == '-' || t[0] == '*' || t[0] == '+') && t[1] == ' ') {
    prefix = "- ";
    t = trim(t.substr(2));
  }
  if (t.starts_with('|')) {
    // Table rows: cells separated by " | ", outer pipes dropped.
    t = trim(t.substr(1));
    if (t.ends_with('|')) t = trim(t.substr(0, t.size() - 1));
  }
  return prefix + strip_inline(t);
}

std::string lines_to_text(std::span<const std::string_view> lines) {
  std::vector<std::string> out;
  out.reserve(lines.size());
  bool in_code = false;
  for (const auto line : lines) {
    if (is_fence(line)) {
      in_code = !in_code;
      out.emplace_back();
      continue;
    }
    if (in_code) {
      out.emplace_back(line);
      continue;
    }
    if (const auto [level, heading] = atx_heading(line); level > 0) {
      out.emplace_back();
      out.push_back(strip_inline(heading));
      out.emplace_back();
      continue;
    }
    if (is_rule(line) || is_table_separator(line) || is_link_definition(line)) {
      out.emplace_back();
      continue;
    }
    out.push_back(strip_block_prefix(line));
  }
  return join_paragraphs(out);
}

}  // namespace

std::string markdown_to_text(std::string_view markdown) {
  return lines_to_text(split_lines(markdown));
}

bool looks_like_markdown(std::string_view text) {
  int signals = 0;
  for (const auto line : split_lines(text)) {
    if (atx_heading(line).first > 0 || is_fence(line)) return true;
    const auto t = trim(line);
    if (t.starts_with("- ") || t.starts_with("* ") || t.starts_with("> ") ||
        t.find("](") != std::string_view::npos || t.find("**") != std::string_view::npos ||
        is_table_separator(line)) {
      ++signals;
    }
  }
  return signals >= 2;
}

extracted_document markdown_document(std::string_view markdown) {
  extracted_document doc;
  doc.format = content_format::markdown;
  doc.mime_type = "text/markdown";
  const auto lines = split_lines(markdown);
  const std::span<const std::string_view> all(lines);
  heading_trail trail;
  std::string heading;  // the current section's own heading, plain text
  std::size_t body_begin = 0;
  bool in_code = false;
  for (std::size_t i = 0; i <= lines.size(); ++i) {
    int level = 0;
    std::string_view next_heading;
    if (i < lines.size()) {
      if (is_fence(lines[i])) in_code = !in_code;
      if (in_code) continue;
      std::tie(level, next_heading) = atx_heading(lines[i]);
      if (level == 0) continue;
    }
    add_section(doc.sections, trail.path(), heading,
                lines_to_text(all.subspan(body_begin, i - body_begin)));
    if (i == lines.size()) break;
    heading = strip_inline(next_heading);
    if (doc.title.empty()) doc.title = heading;
    trail.enter(level, heading);
    body_begin = i + 1;
  }
  return doc;
}

}  // namespace parley::rag
