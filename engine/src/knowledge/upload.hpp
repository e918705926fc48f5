#pragma once

// A document as a client sent it (the API's multipart or JSON body, or a file
// named to `parley ingest`), and the checks it passes before anything is stored:
// its size, its type decided by its content, and the names it carries.

#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "rag/extract.hpp"

namespace parley::knowledge {

struct upload {
  std::string bytes;
  std::string declared_type;  // a media type the client declared; may be empty
  std::string file_name;      // as sent; neutralised before it is kept
  std::optional<std::string> title;
  std::optional<std::string> source_uri;
  std::vector<std::string> agents;  // codes of the agents to enable it for
};

// Why an upload is refused. Nothing is stored.
class upload_error : public std::runtime_error {
 public:
  enum class kind { invalid, unsupported, too_large, agent_not_found, busy };
  upload_error(kind k, std::string code, const std::string& message)
      : std::runtime_error(message), kind_(k), code_(std::move(code)) {}
  kind what_kind() const noexcept { return kind_; }
  const std::string& code() const noexcept { return code_; }

 private:
  kind kind_;
  std::string code_;
};

// What inspection found out about an acceptable upload.
struct inspected_upload {
  rag::content_format format = rag::content_format::text;
  std::string mime_type;
  std::string sha256;     // of the bytes as sent
  std::string file_name;  // neutralised; may be empty
};

// Checks size, names and type (by content: rag/content_type.hpp). Throws
// upload_error for anything that must not be stored.
inspected_upload inspect(const upload& u, std::size_t max_bytes);

// The last path component of `name` with control characters removed and at most 255
// bytes (cut at a character): "../../etc/passwd" keeps "passwd", "C:\\x\\a.pdf"
// keeps "a.pdf". Empty when nothing usable is left ("..", "/").
std::string neutralise_file_name(std::string_view name);

}  // namespace parley::knowledge
