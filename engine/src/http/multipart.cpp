#include "http/multipart.hpp"

#include <gmime/gmime.h>

#include <memory>
#include <mutex>

#include "http/api_error.hpp"

namespace parley::http {

namespace {

struct gobject_unref {
  void operator()(void* p) const noexcept {
    if (p != nullptr) g_object_unref(p);
  }
};
template <class T>
using gobject_ptr = std::unique_ptr<T, gobject_unref>;

struct gfree {
  void operator()(char* p) const noexcept { g_free(p); }
};

[[noreturn]] void refuse(const std::string& why) {
  throw api_error::bad_request("invalid_multipart", "The multipart/form-data body " + why + ".");
}

void init_gmime() {
  static std::once_flag once;
  std::call_once(once, [] { g_mime_init(); });
}

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (auto& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string declared_type(GMimeObject* part) {
  if (g_mime_object_get_header(part, "Content-Type") == nullptr) return {};
  const std::unique_ptr<char, gfree> type(
      g_mime_content_type_get_mime_type(g_mime_object_get_content_type(part)));
  return type ? std::string(type.get()) : std::string();
}

std::string decoded_body(GMimePart* part) {
  GMimeDataWrapper* content = g_mime_part_get_content(part);
  if (content == nullptr) return {};
  const gobject_ptr<GMimeStream> out(g_mime_stream_mem_new());
  if (g_mime_data_wrapper_write_to_stream(content, out.get()) < 0) refuse("has an unreadable part");
  const GByteArray* bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(out.get()));
  return std::string(reinterpret_cast<const char*>(bytes->data), bytes->len);
}

form_part read_part(GMimeObject* object) {
  if (!GMIME_IS_PART(object)) refuse("has a part that is not a plain field or file");
  GMimeContentDisposition* disposition = g_mime_object_get_content_disposition(object);
  if (disposition == nullptr ||
      lower_ascii(g_mime_content_disposition_get_disposition(disposition)) != "form-data") {
    refuse("has a part without 'Content-Disposition: form-data'");
  }
  const char* name = g_mime_content_disposition_get_parameter(disposition, "name");
  if (name == nullptr || *name == '\0') refuse("has a part without a name");
  form_part p;
  p.name = name;
  if (const char* filename = g_mime_content_disposition_get_parameter(disposition, "filename")) {
    p.filename = filename;
  }
  p.content_type = declared_type(object);
  p.body = decoded_body(GMIME_PART(object));
  return p;
}

}  // namespace

bool is_form_data(std::string_view content_type) noexcept {
  constexpr std::string_view type = "multipart/form-data";
  const auto start = content_type.find_first_not_of(" \t");
  if (start == std::string_view::npos) return false;
  const auto rest = content_type.substr(start);
  if (rest.size() < type.size() || lower_ascii(rest.substr(0, type.size())) != type) return false;
  return rest.size() == type.size() || rest[type.size()] == ';' || rest[type.size()] == ' ';
}

std::vector<form_part> parse_form_data(std::string_view content_type, std::string_view body) {
  if (!is_form_data(content_type) || content_type.find_first_of("\r\n") != std::string_view::npos) {
    refuse("needs 'Content-Type: multipart/form-data; boundary=...'");
  }
  init_gmime();
  // GMime parses MIME entities: the request's Content-Type makes the body one.
  std::string entity = "Content-Type: " + std::string(content_type) + "\r\n\r\n";
  entity.append(body);
  const gobject_ptr<GMimeStream> stream(
      g_mime_stream_mem_new_with_buffer(entity.data(), entity.size()));
  const gobject_ptr<GMimeParser> parser(g_mime_parser_new_with_stream(stream.get()));
  const gobject_ptr<GMimeObject> root(g_mime_parser_construct_part(parser.get(), nullptr));
  if (!root || !GMIME_IS_MULTIPART(root.get())) refuse("could not be parsed");
  auto* multipart = GMIME_MULTIPART(root.get());
  const char* boundary = g_mime_multipart_get_boundary(multipart);
  if (boundary == nullptr) refuse("has no boundary");
  // GMime reads up to where the body stops; a body cut short loses its last part.
  if (body.find("--" + std::string(boundary) + "--") == std::string_view::npos) {
    refuse("is truncated (it has no closing boundary)");
  }
  const int count = g_mime_multipart_get_count(multipart);
  if (count <= 0) refuse("has no parts");
  std::vector<form_part> parts;
  parts.reserve(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i)
    parts.push_back(read_part(g_mime_multipart_get_part(multipart, i)));
  return parts;
}

}  // namespace parley::http
