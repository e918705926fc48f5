#pragma once

// PostgreSQL text cannot hold a NUL byte, and libpq sends text parameters as C
// strings, so a NUL would silently cut a value short: what is stored would differ
// from what was accepted (a transcript from what the model saw, a looked-up name
// from the one asked for). Every door where text enters refuses it with this check,
// naming the field, before anything runs; transaction::exec refuses it once more as
// the last wall, so a door that forgets fails loudly instead of truncating.

#include <string_view>

namespace parley::store {

constexpr bool has_nul(std::string_view text) noexcept {
  return text.find('\0') != std::string_view::npos;
}

}  // namespace parley::store
