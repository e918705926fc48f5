#include "rag/content_type.hpp"

#include <magic.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include "rag/markdown_text.hpp"
#include "rag/text.hpp"

namespace parley::rag {

namespace {

// libmagic's verdict: "text/plain" and "utf-8", or "image/png" and "binary".
struct magic_verdict {
  std::string type;
  std::string encoding;
};

// One libmagic handle per thread, since a handle must not be used concurrently.
class magic_handle {
 public:
  magic_handle() : cookie_(magic_open(MAGIC_MIME), &magic_close) {
    if (!cookie_) throw std::runtime_error("libmagic: cannot open a handle");
    if (magic_load(cookie_.get(), nullptr) != 0) {
      throw std::runtime_error(std::string("libmagic: cannot load its database: ") +
                               magic_error(cookie_.get()));
    }
  }

  magic_verdict classify(std::string_view bytes) {
    const char* out = magic_buffer(cookie_.get(), bytes.data(), bytes.size());
    if (out == nullptr) {
      throw std::runtime_error(std::string("libmagic: ") + magic_error(cookie_.get()));
    }
    // "text/plain; charset=us-ascii"
    const std::string_view verdict(out);
    const auto semicolon = verdict.find(';');
    magic_verdict v{std::string(verdict.substr(0, semicolon)), {}};
    if (const auto charset = verdict.find("charset="); charset != std::string_view::npos) {
      v.encoding = verdict.substr(charset + 8);
    }
    return v;
  }

 private:
  std::unique_ptr<magic_set, decltype(&magic_close)> cookie_;
};

magic_verdict classify(std::string_view bytes) {
  thread_local magic_handle handle;
  return handle.classify(bytes);
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r\n\f");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t\r\n\f");
  return s.substr(first, last - first + 1);
}

bool one_of(std::string_view type, std::initializer_list<std::string_view> types) {
  return std::find(types.begin(), types.end(), type) != types.end();
}

// The reason a type libmagic recognised is refused; nullopt when it may be text.
std::optional<std::string> refusal(std::string_view type) {
  if (type.starts_with("image/")) return "images are not supported";
  if (type.starts_with("audio/") || type.starts_with("video/")) {
    return "audio and video are not supported";
  }
  if (one_of(type,
             {"application/x-executable", "application/x-pie-executable", "application/x-sharedlib",
              "application/x-object", "application/x-coredump", "application/x-mach-binary",
              "application/x-dosexec", "application/vnd.microsoft.portable-executable",
              "application/x-msdownload", "application/x-elf", "application/x-java-applet"})) {
    return "executables are not supported";
  }
  if (one_of(type, {"application/zip", "application/x-tar", "application/x-7z-compressed",
                    "application/x-rar", "application/vnd.rar", "application/java-archive",
                    "application/x-cpio", "application/x-archive", "application/x-iso9660-image",
                    "application/vnd.debian.binary-package", "application/x-rpm"})) {
    return "archives are not supported";
  }
  if (one_of(type, {"application/gzip", "application/x-gzip", "application/x-bzip2",
                    "application/x-xz", "application/zstd", "application/x-lzma",
                    "application/x-lzip", "application/x-lz4", "application/x-compress"})) {
    return "compressed files are not supported";
  }
  if (one_of(type, {"application/msword", "application/CDFV2", "application/rtf", "text/rtf"}) ||
      type.starts_with("application/vnd.openxmlformats-officedocument.") ||
      type.starts_with("application/vnd.oasis.opendocument.") ||
      type.starts_with("application/vnd.ms-")) {
    return "office documents are not supported (save them as PDF, HTML or text)";
  }
  // Text that is really a program for a printer: its words are not the document's.
  if (type == "application/postscript") return "PostScript documents are not supported";
  return std::nullopt;
}

// Text libmagic let through is checked whole: libmagic judges the encoding on the
// first 64 KiB only.
void check_text(std::string_view bytes, std::string_view encoding) {
  if (encoding.starts_with("utf-16") || encoding.starts_with("utf-32") || !valid_utf8(bytes)) {
    std::string reason = "the text is not valid UTF-8";
    if (!encoding.empty() && encoding != "utf-8" && encoding != "us-ascii" &&
        encoding != "binary" && encoding != "unknown-8bit") {
      reason += " (it looks like " + std::string(encoding) + ")";
    }
    throw extract_error(reason);
  }
  if (bytes.find('\0') != std::string_view::npos) throw extract_error("text contains NUL bytes");
  const bool has_control = std::any_of(bytes.begin(), bytes.end(), [](char ch) {
    const auto c = static_cast<unsigned char>(ch);
    return (c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f') || c == 0x7F;
  });
  if (has_control) throw extract_error("text contains control characters");
}

std::optional<content_format> format_of_declared(std::string_view declared_type) {
  const auto type = lower(trim(declared_type.substr(0, declared_type.find(';'))));
  if (type == "text/plain") return content_format::text;
  if (type == "text/markdown" || type == "text/x-markdown") return content_format::markdown;
  if (type == "text/html" || type == "application/xhtml+xml") return content_format::html;
  return std::nullopt;
}

std::optional<content_format> format_of_name(std::string_view file_name) {
  const auto base = file_name.substr(file_name.find_last_of("/\\") + 1);
  const auto dot = base.rfind('.');
  if (dot == std::string_view::npos) return std::nullopt;
  const auto ext = lower(base.substr(dot + 1));
  if (ext == "txt") return content_format::text;
  if (ext == "md" || ext == "markdown") return content_format::markdown;
  if (ext == "html" || ext == "htm") return content_format::html;
  return std::nullopt;
}

bool starts_with_ci(std::string_view s, std::string_view lower_prefix) {
  return s.size() >= lower_prefix.size() && lower(s.substr(0, lower_prefix.size())) == lower_prefix;
}

content_format sniff_text(std::string_view text) {
  const auto lead = trim(text);
  if (starts_with_ci(lead, "<!doctype html") || starts_with_ci(lead, "<html")) {
    return content_format::html;
  }
  return looks_like_markdown(text) ? content_format::markdown : content_format::text;
}

}  // namespace

content_format detect_format(std::string_view bytes, std::string_view declared_type,
                             std::string_view file_name) {
  if (bytes.empty()) throw extract_error("the document is empty");
  const auto magic = classify(bytes);
  if (magic.type == "application/pdf") return content_format::pdf;
  if (auto reason = refusal(magic.type)) throw extract_error(*reason);
  if (magic.encoding == "binary") {
    // libmagic calls text with a NUL byte binary; say what is wrong with it.
    if (bytes.find('\0') != std::string_view::npos && valid_utf8(bytes)) {
      throw extract_error("text contains NUL bytes");
    }
    if (magic.type == "application/octet-stream") {
      throw extract_error("binary files are not supported");
    }
    throw extract_error("binary files are not supported (" + magic.type + ")");
  }
  check_text(bytes, magic.encoding);
  if (const auto declared = format_of_declared(declared_type)) return *declared;
  if (const auto named = format_of_name(file_name)) return *named;
  return sniff_text(bytes);
}

}  // namespace parley::rag
