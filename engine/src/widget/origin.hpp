#pragma once

// Browser origins as tenants list them in allowed_origins and as the Origin header
// carries them: "scheme://host[:port]", scheme http or https, lowercase, no path,
// query, user info or trailing slash, at most PARLEY_ORIGIN_MAX bytes (the edge's
// limit too, shared/parley_widget_token.h). Compared byte for byte, so only this
// one spelling is stored.

#include <optional>
#include <string>
#include <string_view>

namespace parley::widget {

// Why `origin` is not acceptable, or nothing when it is.
std::optional<std::string> origin_problem(std::string_view origin);

inline bool is_valid_origin(std::string_view origin) { return !origin_problem(origin); }

}  // namespace parley::widget
