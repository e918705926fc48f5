#pragma once

// The verified identity the edge passed in X-Parley-Context (shared/parley_context.h).
// Handlers take the tenant from here and from nowhere else (SPEC 1, trust rule 1).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace parley::edge {

enum class principal_kind : std::uint8_t { key, widget, admin, edge };

std::string_view to_string(principal_kind kind) noexcept;
std::optional<principal_kind> parse_principal_kind(std::string_view text) noexcept;

// A UUID in the form PostgreSQL prints and the context carries: 8-4-4-4-12 lowercase hex.
bool is_lower_uuid(std::string_view text) noexcept;

struct identity {
  std::string tenant_id;  // lowercase UUID; the nil UUID for edge calls
  principal_kind kind = principal_kind::key;
  std::string principal_id;               // e.g. the API key's UUID
  std::optional<std::string> session_id;  // absent when the edge sent "-"
  std::string request_id;
  std::int64_t signed_at_ms = 0;
};

}  // namespace parley::edge
