#include "llm/sse_parser.hpp"

namespace parley::llm {

bool sse_parser::feed(std::string_view bytes, std::vector<sse_event>& out) {
  if (failed_) return false;
  for (const char c : bytes) {
    if (after_cr_) {
      after_cr_ = false;
      if (c == '\n') continue;  // the second half of a CRLF
    }
    if (c == '\r' || c == '\n') {
      after_cr_ = c == '\r';
      process_line(line_, out);
      line_.clear();
      continue;
    }
    line_.push_back(c);
    if (at_start_ && line_.size() == 3) {
      at_start_ = false;
      if (line_ == "\xEF\xBB\xBF") line_.clear();
    }
    if (line_.size() + current_.data.size() > max_event_bytes_) {
      failed_ = true;
      return false;
    }
  }
  return true;
}

void sse_parser::process_line(std::string_view line, std::vector<sse_event>& out) {
  at_start_ = false;
  if (line.empty()) {
    if (has_data_) out.push_back(std::move(current_));
    current_ = {};
    has_data_ = false;
    return;
  }
  if (line.front() == ':') return;  // comment, e.g. a keep-alive
  const auto colon = line.find(':');
  const auto field = line.substr(0, colon);
  std::string_view value;
  if (colon != std::string_view::npos) {
    value = line.substr(colon + 1);
    if (value.starts_with(' ')) value.remove_prefix(1);
  }
  if (field == "data") {
    if (has_data_) current_.data.push_back('\n');
    current_.data.append(value);
    has_data_ = true;
  } else if (field == "event") {
    current_.event = value;
  } else if (field == "id") {
    if (value.find('\0') == std::string_view::npos) current_.id = value;
  }
  // "retry" and unknown fields are ignored, as the format requires.
}

}  // namespace parley::llm
