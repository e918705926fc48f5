#include "rag/extract.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <vector>

#include "rag/text.hpp"

namespace parley::rag {

namespace {

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t");
  return s.substr(first, last - first + 1);
}

// The formats we recognise but cannot extract yet get a specific refusal.
void refuse_known_binary(std::string_view bytes) {
  struct magic {
    std::string_view prefix;
    std::string_view what;
  };
  static constexpr std::array<magic, 7> magics{{
      {"%PDF-", "PDF documents are not supported yet"},
      {"PK\x03\x04", "archives and office documents are not supported"},
      {"\x89PNG", "images are not supported"},
      {"GIF8", "images are not supported"},
      {"\xFF\xD8\xFF", "images are not supported"},
      {"\x1F\x8B", "compressed files are not supported"},
      {"\x7F"
       "ELF",
       "executables are not supported"},
  }};
  for (const auto& m : magics) {
    if (bytes.starts_with(m.prefix)) throw extract_error(std::string(m.what));
  }
}

void check_is_text(std::string_view bytes) {
  if (bytes.find('\0') != std::string_view::npos) {
    throw extract_error("binary content is not supported (the file contains NUL bytes)");
  }
  if (!valid_utf8(bytes)) throw extract_error("the file is not valid UTF-8 text");
  const bool has_control = std::any_of(bytes.begin(), bytes.end(), [](char ch) {
    const auto c = static_cast<unsigned char>(ch);
    return (c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f') || c == 0x7F;
  });
  if (has_control) throw extract_error("binary content is not supported (control characters)");
  const auto start = bytes.find_first_not_of(" \t\r\n\f");
  const auto lead = start == std::string_view::npos ? std::string_view{} : bytes.substr(start);
  if (starts_with_ci(lead, "<!doctype html") || starts_with_ci(lead, "<html")) {
    throw extract_error("HTML documents are not supported yet");
  }
}

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

bool looks_like_markdown(const std::vector<std::string_view>& lines) {
  int signals = 0;
  for (const auto line : lines) {
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

// Joins lines, trimming line ends and keeping at most one blank line in a row.
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

}  // namespace

std::string markdown_to_text(std::string_view markdown) {
  const auto lines = split_lines(markdown);
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

extracted_document extract(std::string_view bytes) {
  refuse_known_binary(bytes);
  if (bytes.starts_with("\xEF\xBB\xBF")) bytes.remove_prefix(3);
  check_is_text(bytes);
  if (bytes.find_first_not_of(" \t\r\n\f") == std::string_view::npos) {
    throw extract_error("the document is empty");
  }
  const auto lines = split_lines(bytes);
  extracted_document doc;
  if (looks_like_markdown(lines)) {
    doc.format = content_format::markdown;
    doc.mime_type = "text/markdown";
    for (const auto line : lines) {
      if (const auto [level, heading] = atx_heading(line); level > 0 && !heading.empty()) {
        doc.title = strip_inline(heading);
        break;
      }
    }
    doc.text = markdown_to_text(bytes);
  } else {
    doc.format = content_format::text;
    doc.mime_type = "text/plain";
    doc.text = join_paragraphs(std::vector<std::string>(lines.begin(), lines.end()));
  }
  if (doc.text.empty()) throw extract_error("the document has no text");
  return doc;
}

}  // namespace parley::rag
