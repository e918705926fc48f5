#include "widget/origin.hpp"

#include <algorithm>
#include <charconv>

#include "shared/parley_widget_token.h"

namespace parley::widget {
namespace {

constexpr std::size_t origin_max = PARLEY_ORIGIN_MAX;

bool host_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

std::optional<std::string> host_problem(std::string_view host) {
  if (host.empty()) return "has no host";
  if (std::ranges::any_of(host, [](char c) { return c >= 'A' && c <= 'Z'; })) {
    return "must be lowercase";
  }
  if (!std::ranges::all_of(host, host_char)) {
    return "host may hold only a-z, 0-9, '-' and '.' (no path, query or user info)";
  }
  if (host.front() == '.' || host.back() == '.' || host.find("..") != std::string_view::npos) {
    return "host has an empty label";
  }
  return std::nullopt;
}

std::optional<std::string> port_problem(std::string_view port) {
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || port.front() == '0' || ec != std::errc{} ||
      end != port.data() + port.size() || value > 65535) {
    return "port must be a number from 1 to 65535";
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> origin_problem(std::string_view origin) {
  if (origin.size() > origin_max) {
    return "is longer than " + std::to_string(origin_max) + " characters";
  }
  std::string_view rest;
  if (origin.starts_with("https://")) {
    rest = origin.substr(8);
  } else if (origin.starts_with("http://")) {
    rest = origin.substr(7);
  } else {
    return "must start with https:// or http:// (lowercase)";
  }
  if (rest.find('/') != std::string_view::npos) return "must not have a path (not even '/')";
  const auto colon = rest.find(':');
  if (auto p = host_problem(rest.substr(0, colon))) return p;
  if (colon != std::string_view::npos) return port_problem(rest.substr(colon + 1));
  return std::nullopt;
}

}  // namespace parley::widget
