#pragma once

// Incremental parser for text/event-stream (the WHATWG "server-sent events"
// format), as upstream LLM APIs send it. Bytes arrive in arbitrary pieces; a line,
// a CRLF pair or a UTF-8 character may be split between two pieces.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace parley::llm {

struct sse_event {
  std::string event;  // the "event:" field; empty means "message"
  std::string data;   // "data:" lines joined with '\n'
  std::string id;
};

class sse_parser {
 public:
  // An event (or a single line) larger than `max_event_bytes` is a protocol error:
  // it bounds what a misbehaving upstream can make us buffer.
  explicit sse_parser(std::size_t max_event_bytes = 1024 * 1024)
      : max_event_bytes_(max_event_bytes) {}

  // Parses `bytes`, appending each completed event to `out`. Comments (":" lines)
  // and events without data are skipped. Returns false once the limit is exceeded;
  // the parser then stays failed.
  bool feed(std::string_view bytes, std::vector<sse_event>& out);

  bool failed() const noexcept { return failed_; }

 private:
  void process_line(std::string_view line, std::vector<sse_event>& out);

  std::size_t max_event_bytes_;
  std::string line_;
  bool after_cr_ = false;  // the previous piece ended in '\r': a following '\n' belongs to it
  bool at_start_ = true;   // a leading UTF-8 BOM is ignored
  sse_event current_;
  bool has_data_ = false;
  bool failed_ = false;
};

}  // namespace parley::llm
