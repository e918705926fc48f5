#include "knowledge/upload.hpp"

#include <algorithm>

#include "base/crypto.hpp"
#include "rag/content_type.hpp"
#include "rag/text.hpp"

namespace parley::knowledge {

namespace {

constexpr std::size_t max_title_bytes = 500;
constexpr std::size_t max_source_uri_bytes = 2048;
constexpr std::size_t max_file_name_bytes = 255;

bool is_control(char ch) {
  const auto c = static_cast<unsigned char>(ch);
  return c < 0x20 || c == 0x7F;
}

bool is_continuation_byte(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// A name or title shown back to people: valid UTF-8, no control characters.
void check_label(std::string_view field, std::string_view value, std::size_t max_bytes) {
  const auto fail = [&](const std::string& why) {
    throw upload_error(upload_error::kind::invalid, "invalid_" + std::string(field),
                       "'" + std::string(field) + "' " + why + ".");
  };
  if (value.size() > max_bytes) fail("is longer than " + std::to_string(max_bytes) + " bytes");
  if (!rag::valid_utf8(value)) fail("is not valid UTF-8");
  if (std::any_of(value.begin(), value.end(), is_control)) fail("contains control characters");
}

// The type stored with the document from its registration on; extraction names the
// same one (rag/extracted.hpp).
std::string mime_type_of(rag::content_format format) {
  switch (format) {
    case rag::content_format::markdown: return "text/markdown";
    case rag::content_format::html: return "text/html";
    case rag::content_format::pdf: return "application/pdf";
    case rag::content_format::text: break;
  }
  return "text/plain";
}

}  // namespace

std::string neutralise_file_name(std::string_view name) {
  const auto slash = name.find_last_of("/\\");
  if (slash != std::string_view::npos) name.remove_prefix(slash + 1);
  std::string out;
  for (const char ch : name) {
    if (!is_control(ch)) out += ch;
  }
  if (out.size() > max_file_name_bytes) {
    std::size_t cut = max_file_name_bytes;
    while (cut > 0 && is_continuation_byte(out[cut])) --cut;
    out.resize(cut);
  }
  if (out == "." || out == ".." || !rag::valid_utf8(out)) return {};
  return out;
}

inspected_upload inspect(const upload& u, std::size_t max_bytes) {
  if (u.bytes.size() > max_bytes) {
    throw upload_error(upload_error::kind::too_large, "document_too_large",
                       "The document is larger than " + std::to_string(max_bytes) + " bytes.");
  }
  if (u.title) {
    if (u.title->empty()) {
      throw upload_error(upload_error::kind::invalid, "invalid_title", "'title' is empty.");
    }
    check_label("title", *u.title, max_title_bytes);
  }
  if (u.source_uri) check_label("source_uri", *u.source_uri, max_source_uri_bytes);

  inspected_upload out;
  out.file_name = neutralise_file_name(u.file_name);
  try {
    out.format = rag::detect_format(u.bytes, u.declared_type, out.file_name);
  } catch (const rag::extract_error& e) {
    throw upload_error(upload_error::kind::unsupported, "unsupported_document", e.what());
  }
  out.mime_type = mime_type_of(out.format);
  out.sha256 = base::sha256_hex(u.bytes);
  return out;
}

}  // namespace parley::knowledge
