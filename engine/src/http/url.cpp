#include "http/url.hpp"

#include <cctype>

#include "http/api_error.hpp"

namespace parley::http {
namespace {

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Whether `s` starts with the escape %<digit><letter>, the letter in either case.
bool starts_with_escape(std::string_view s, char digit, char letter) noexcept {
  return s.size() >= 3 && s[0] == '%' && s[1] == digit &&
         std::tolower(static_cast<unsigned char>(s[2])) == letter;
}

// "." or "..", each dot possibly spelled %2E: nginx decodes before it resolves them.
bool is_dot_segment(std::string_view s) noexcept {
  int dots = 0;
  while (!s.empty()) {
    if (s.front() == '.') {
      s.remove_prefix(1);
    } else if (starts_with_escape(s, '2', 'e')) {
      s.remove_prefix(3);
    } else {
      return false;
    }
    ++dots;
  }
  return dots == 1 || dots == 2;
}

bool has_encoded_slash(std::string_view s) noexcept {
  for (auto at = s.find('%'); at != std::string_view::npos; at = s.find('%', at + 1)) {
    if (starts_with_escape(s.substr(at), '2', 'f')) return true;
  }
  return false;
}

}  // namespace

std::string percent_decode(std::string_view in, bool plus_is_space) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%') {
      const int hi = i + 2 < in.size() ? hex_value(in[i + 1]) : -1;
      const int lo = i + 2 < in.size() ? hex_value(in[i + 2]) : -1;
      if (hi < 0 || lo < 0)
        throw api_error::bad_request("invalid_path", "Malformed percent-encoding in the URL.");
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (plus_is_space && in[i] == '+') {
      out += ' ';
    } else {
      out += in[i];
    }
  }
  return out;
}

std::map<std::string, std::string> parse_query(std::string_view q) {
  std::map<std::string, std::string> out;
  while (!q.empty()) {
    const auto amp = q.find('&');
    const auto pair = q.substr(0, amp);
    if (!pair.empty()) {
      const auto eq = pair.find('=');
      out[percent_decode(pair.substr(0, eq), true)] =
          eq == std::string_view::npos ? std::string() : percent_decode(pair.substr(eq + 1), true);
    }
    if (amp == std::string_view::npos) break;
    q.remove_prefix(amp + 1);
  }
  return out;
}

std::optional<std::vector<std::string_view>> canonical_segments(std::string_view path) {
  if (path.empty() || path.front() != '/') return std::nullopt;
  std::vector<std::string_view> out;
  do {
    path.remove_prefix(1);
    const auto segment = path.substr(0, path.find('/'));
    if (segment.empty() || is_dot_segment(segment) || has_encoded_slash(segment))
      return std::nullopt;
    out.push_back(segment);
    path.remove_prefix(segment.size());
  } while (!path.empty());
  return out;
}

}  // namespace parley::http
