#pragma once

// The parts of a request target the engine reads: percent-decoding and the query string.

#include <map>
#include <string>
#include <string_view>

namespace parley::http {

// Percent-decoding; '+' is a space only in query strings. Throws api_error 400
// invalid_path on a broken escape.
std::string percent_decode(std::string_view in, bool plus_is_space);

// "a=1&b=x+y" -> {a: "1", b: "x y"}; the last value of a repeated name wins. Throws
// like percent_decode.
std::map<std::string, std::string> parse_query(std::string_view query);

}  // namespace parley::http
