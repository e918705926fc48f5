#pragma once

// A tenant's plan limits, the tenants table's rate_rpm, rate_burst and max_streams,
// which the edge enforces: introspection answers them for a secret key
// (shared/parley_context.h), the widget's credentials carry them signed ("pln",
// shared/parley_widget_token.h). An absent value: the edge's directive default.

#include <cstdint>
#include <optional>

namespace parley::store {

class result;

struct tenant_plan {
  std::optional<std::int64_t> rate_rpm;
  std::optional<std::int64_t> rate_burst;
  std::optional<std::int64_t> max_streams;

  bool operator==(const tenant_plan&) const = default;
};

// The plan in row `row` of a result that selected the three columns by name.
tenant_plan plan_of(const result& r, int row);

}  // namespace parley::store
