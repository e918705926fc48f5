#include "config/key_ring.hpp"

#include <algorithm>

namespace parley::config {
namespace {

constexpr std::size_t kid_max = 64;

bool is_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\r'; }

bool is_kid(std::string_view s) noexcept {
  return !s.empty() && s.size() <= kid_max && std::ranges::all_of(s, [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
}

// Splits a line on runs of blanks.
std::vector<std::string_view> fields(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && is_space(line[i])) ++i;
    const std::size_t start = i;
    while (i < line.size() && !is_space(line[i])) ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

}  // namespace

key_ring_parse parse_key_ring(std::string_view text) {
  key_ring_parse out;
  std::size_t number = 0;
  while (!text.empty()) {
    const auto eol = text.find('\n');
    const std::string_view line = text.substr(0, eol);
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
    ++number;
    const auto parts = fields(line);
    if (parts.empty() || parts.front().front() == '#') continue;
    const std::string where = "line " + std::to_string(number) + ": ";
    if (parts.size() != 2) {
      out.problems.push_back(where + "expected \"<kid> <secret>\"");
      continue;
    }
    const auto kid = parts[0];
    const auto secret = parts[1];
    if (!is_kid(kid)) {
      out.problems.push_back(where + "a key id is 1 to 64 of [A-Za-z0-9_-]");
      continue;
    }
    if (secret.size() < ring_secret_min) {
      out.problems.push_back(where + "the secret of '" + std::string(kid) + "' is shorter than " +
                             std::to_string(ring_secret_min) + " bytes");
      continue;
    }
    if (std::ranges::any_of(out.keys, [&](const ring_key& k) { return k.kid == kid; })) {
      out.problems.push_back(where + "duplicate key id '" + std::string(kid) + "'");
      continue;
    }
    out.keys.push_back({std::string(kid), std::string(secret)});
  }
  if (out.keys.empty() && out.problems.empty()) out.problems.push_back("the ring has no key");
  return out;
}

}  // namespace parley::config
