#pragma once

// The parts of a request target the engine reads: percent-decoding, the query string,
// and the path in its one canonical spelling.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace parley::http {

// Percent-decoding; '+' is a space only in query strings. Throws api_error 400
// invalid_path on a broken escape.
std::string percent_decode(std::string_view in, bool plus_is_space);

// "a=1&b=x+y" -> {a: "1", b: "x y"}; the last value of a repeated name wins. Throws
// like percent_decode.
std::map<std::string, std::string> parse_query(std::string_view query);

// "/v1/models" -> {"v1", "models"}. Nothing for any other spelling of a path: no
// leading '/', an empty segment ("//", a trailing '/'), a "." or ".." segment (also
// spelled with %2E), or a percent-encoded '/' in a segment. nginx picks a location
// by the normalised path but passes the path as sent; accepting only one spelling
// keeps the engine from serving a route the edge did not guard as that route.
std::optional<std::vector<std::string_view>> canonical_segments(std::string_view path);

}  // namespace parley::http
