#pragma once

// The body of POST /v1/documents, in either form a client may send:
//
//   multipart/form-data: a "file" part (its filename and Content-Type are what the
//     client declares), optional "title" and "source_uri" fields, and "agents"
//     fields (repeated, or one comma-separated list of agent codes);
//   JSON: {"title", "content" (text) or "data" (base64), "source_uri",
//     "agents": [codes], "file_name", "content_type"}.
//
// Unknown fields, a missing or repeated document, wrong types and malformed
// encodings are refused with api_error 400; what the bytes are is decided later,
// by their content (knowledge/upload.hpp).

#include <string_view>

#include "knowledge/upload.hpp"

namespace parley::api {

knowledge::upload read_document_upload(std::string_view content_type, std::string_view body);

}  // namespace parley::api
