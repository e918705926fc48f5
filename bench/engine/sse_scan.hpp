// Scans an OpenAI chat-completion SSE body as it arrives, in pieces cut
// anywhere, for the two things the load generator times: events carrying
// a non-empty delta.content (tokens, with their text) and the final
// data: [DONE].
#pragma once

#include <string>
#include <string_view>

class sse_scan {
 public:
  sse_scan() { carry_.reserve(1024); }

  // Calls on_token(text) once per token event among the bytes; text is the
  // content as it stands in the JSON (escapes not undone), valid during the call.
  template <class F>
  void feed(std::string_view bytes, F&& on_token) {
    while (!bytes.empty()) {
      const auto nl = bytes.find('\n');
      if (nl == std::string_view::npos) {
        carry_.append(bytes);  // a line cut by the read: kept for the next piece
        return;
      }
      std::string_view line = bytes.substr(0, nl);
      if (!carry_.empty()) {
        carry_.append(line);
        line = carry_;
      }
      if (const auto text = scan_line(line); !text.empty()) on_token(text);
      carry_.clear();  // keeps its capacity: no allocation per event
      bytes.remove_prefix(nl + 1);
    }
  }

  bool done() const { return done_; }

 private:
  // A token event's text, empty for any other line; notes [DONE].
  std::string_view scan_line(std::string_view line) {
    if (!line.starts_with("data:")) return {};
    line.remove_prefix(5);
    if (line.starts_with(' ')) line.remove_prefix(1);
    if (line.starts_with("[DONE]")) {
      done_ = true;
      return {};
    }
    return content(line);
  }

  // The delta object's "content" string, or empty.  The search stops at
  // the delta's first '}': Parley's final chunk carries citations whose
  // fields must not count, and neither the mock's tokens nor the engine's
  // framing put a '}' inside a delta before its content.
  static std::string_view content(std::string_view json) {
    const auto delta = json.find("\"delta\"");
    if (delta == std::string_view::npos) return {};
    const auto end = json.find('}', delta);
    const auto key = json.find("\"content\"", delta);
    if (key == std::string_view::npos || key > end) return {};
    auto rest = json.substr(key + 9);
    while (!rest.empty() && (rest.front() == ' ' || rest.front() == ':')) rest.remove_prefix(1);
    if (!rest.starts_with('"')) return {};
    rest.remove_prefix(1);
    // the closing quote: the first one not escaped by a backslash
    for (std::size_t i = 0; i < rest.size(); ++i) {
      if (rest[i] == '\\') ++i;
      else if (rest[i] == '"') return rest.substr(0, i);
    }
    return {};
  }

  std::string carry_;
  bool done_ = false;
};
