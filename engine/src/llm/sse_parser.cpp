#include "llm/sse_parser.hpp"

namespace parley::llm {

bool sse_parser::feed(std::string_view bytes, std::vector<sse_event>& out) {
  if (failed_) return false;
  while (!bytes.empty()) {
    if (after_cr_) {
      after_cr_ = false;
      if (bytes.front() == '\n') {  // the second half of a CRLF
        bytes.remove_prefix(1);
        continue;
      }
    }
    // A line's bytes up to its end, appended as one run.
    const auto end = bytes.find_first_of("\r\n");
    line_.append(bytes.substr(0, end));
    if (at_start_ && line_.size() >= 3) {
      at_start_ = false;
      if (line_.starts_with("\xEF\xBB\xBF")) line_.erase(0, 3);
    }
    if (line_.size() + current_.data.size() > max_event_bytes_) {
      failed_ = true;
      return false;
    }
    if (end == std::string_view::npos) break;
    after_cr_ = bytes[end] == '\r';
    process_line(line_, out);
    line_.clear();
    bytes.remove_prefix(end + 1);
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
