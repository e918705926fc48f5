#pragma once

// X-Parley-Context signing and verification (SPEC 3.5, shared/parley_context.h).
// The engine only verifies in production; sign() exists for tests and tools that
// must produce exactly what the edge produces.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "edge/identity.hpp"

namespace parley::edge {

enum class context_error { none, malformed, signature, expired, future };

std::string_view to_string(context_error error) noexcept;

struct verify_result {
  std::optional<edge::identity> identity;  // set only when error == none
  context_error error = context_error::none;
};

struct context_limits {
  std::int64_t max_age_ms = 30000;
  std::int64_t max_skew_ms = 5000;
};

class context_verifier {
 public:
  // `secret`: the edge secret's raw bytes (trailing whitespace already removed).
  context_verifier(std::string secret, context_limits limits);

  // Checks shape first, then the signature (constant time), then the age.
  verify_result verify(std::string_view header, std::int64_t now_ms) const;

 private:
  std::string secret_;
  context_limits limits_;
};

// The header value the edge would send for `id` (signed_at_ms as the timestamp).
std::string sign_context(std::string_view secret, const identity& id);

}  // namespace parley::edge
