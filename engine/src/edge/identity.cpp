#include "edge/identity.hpp"

namespace parley::edge {

std::string_view to_string(principal_kind kind) noexcept {
  switch (kind) {
    case principal_kind::key: return "key";
    case principal_kind::widget: return "widget";
    case principal_kind::admin: return "admin";
    case principal_kind::edge: return "edge";
  }
  return "key";
}

std::optional<principal_kind> parse_principal_kind(std::string_view text) noexcept {
  if (text == "key") return principal_kind::key;
  if (text == "widget") return principal_kind::widget;
  if (text == "admin") return principal_kind::admin;
  if (text == "edge") return principal_kind::edge;
  return std::nullopt;
}

bool is_lower_uuid(std::string_view s) noexcept {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

}  // namespace parley::edge
