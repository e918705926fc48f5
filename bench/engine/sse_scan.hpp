// Scans an OpenAI chat-completion SSE body as it arrives, in pieces cut
// anywhere, for the two things the load generator times: events carrying
// a non-empty delta.content (tokens) and the final data: [DONE].
#pragma once

#include <string>
#include <string_view>

class sse_scan {
 public:
  sse_scan() { carry_.reserve(1024); }

  // Calls on_token() once per token event among the bytes.
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
      if (scan_line(line)) on_token();
      carry_.clear();  // keeps its capacity: no allocation per event
      bytes.remove_prefix(nl + 1);
    }
  }

  bool done() const { return done_; }

 private:
  // True for a token event; notes [DONE].
  bool scan_line(std::string_view line) {
    if (!line.starts_with("data:")) return false;
    line.remove_prefix(5);
    if (line.starts_with(' ')) line.remove_prefix(1);
    if (line.starts_with("[DONE]")) {
      done_ = true;
      return false;
    }
    return has_content(line);
  }

  // Whether the delta object has a non-empty "content" string.  The search
  // stops at the delta's first '}': Parley's final chunk carries citations
  // whose fields must not count, and neither the mock's tokens nor the
  // engine's framing put a '}' inside a delta before its content.
  static bool has_content(std::string_view json) {
    const auto delta = json.find("\"delta\"");
    if (delta == std::string_view::npos) return false;
    const auto end = json.find('}', delta);
    const auto key = json.find("\"content\"", delta);
    if (key == std::string_view::npos || key > end) return false;
    auto rest = json.substr(key + 9);
    while (!rest.empty() && (rest.front() == ' ' || rest.front() == ':')) rest.remove_prefix(1);
    return rest.size() >= 2 && rest[0] == '"' && rest[1] != '"';
  }

  std::string carry_;
  bool done_ = false;
};
