#pragma once

// multipart/form-data bodies (RFC 7578), parsed by GMime: the boundary, the
// transfer encodings and the RFC 2231 parameters of Content-Disposition are
// GMime's, not hand-written here. Parse on one thread at a time per process:
// GMime is initialised once and its parser is not documented as reentrant.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace parley::http {

struct form_part {
  std::string name;                     // Content-Disposition: form-data; name="..."
  std::optional<std::string> filename;  // present for file fields
  std::string content_type;             // as the part declared it; empty when it did not
  std::string body;                     // decoded bytes
};

// The parts of a multipart/form-data body, in order. `content_type` is the
// request's Content-Type field (with its boundary). Throws api_error 400
// invalid_multipart for anything else: no boundary, a truncated body, a part
// that is not form-data or has no name, or nested multiparts.
std::vector<form_part> parse_form_data(std::string_view content_type, std::string_view body);

// "multipart/form-data" whatever the case and parameters.
bool is_form_data(std::string_view content_type) noexcept;

}  // namespace parley::http
