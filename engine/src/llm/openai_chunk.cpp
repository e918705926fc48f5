#include "llm/openai_chunk.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>

#include "llm/streaming_call.hpp"

namespace parley::llm {

namespace {

using nlohmann::json;

// The keys that matter, wherever they appear; every other key is `other`.
enum class field : std::uint8_t {
  other,
  error,
  message,
  choices,
  delta,
  content,
  finish_reason,
  usage,
  prompt_tokens,
  completion_tokens
};

field field_of(std::string_view key) {
  static constexpr std::array<std::pair<std::string_view, field>, 9> known{{
      {"error", field::error},
      {"message", field::message},
      {"choices", field::choices},
      {"delta", field::delta},
      {"content", field::content},
      {"finish_reason", field::finish_reason},
      {"usage", field::usage},
      {"prompt_tokens", field::prompt_tokens},
      {"completion_tokens", field::completion_tokens},
  }};
  for (const auto& [name, f] : known) {
    if (key == name) return f;
  }
  return field::other;
}

// Where a value sits in the chunk, as far as we read it.
enum class place : std::uint8_t {
  other,
  root,
  error,             // .error
  error_message,     // .error.message
  choices,           // .choices
  first_choice,      // .choices[0]
  delta,             // .choices[0].delta
  content,           // .choices[0].delta.content
  finish_reason,     // .choices[0].finish_reason
  usage,             // .usage
  prompt_tokens,     // .usage.prompt_tokens
  completion_tokens  // .usage.completion_tokens
};

// nlohmann's SAX handler: follows the path of each value and keeps the ones a turn
// uses. Levels deeper than any read place are counted, not kept.
class chunk_reader {
 public:
  // The chunk read; nullopt when the payload was no JSON object.
  std::optional<openai_chunk> take() {
    if (!root_seen_) return std::nullopt;
    if (error_) {
      openai_chunk only_error;
      only_error.error = std::move(error_);
      return only_error;
    }
    return std::move(chunk_);
  }

  // ---- the SAX interface ---------------------------------------------------------
  bool null() { return scalar_done(); }
  bool boolean(bool /*value*/) { return scalar(); }
  bool number_integer(json::number_integer_t value) { return integer(value); }
  bool number_unsigned(json::number_unsigned_t value) {
    constexpr auto most =
        static_cast<json::number_unsigned_t>(std::numeric_limits<std::int64_t>::max());
    return integer(static_cast<std::int64_t>(std::min(value, most)));
  }
  bool number_float(json::number_float_t /*value*/, const json::string_t& /*text*/) {
    return scalar();
  }
  bool binary(json::binary_t& /*value*/) { return scalar(); }
  bool string(json::string_t& value) {
    switch (here()) {
      case place::error:
      case place::error_message: error_ = without_nul(std::move(value)); break;
      case place::content: chunk_.content = without_nul(std::move(value)); break;
      case place::finish_reason: chunk_.finish_reason = without_nul(std::move(value)); break;
      default: break;
    }
    return scalar_done();
  }
  bool start_object(std::size_t /*elements*/) { return open(false); }
  bool key(json::string_t& name) {
    if (depth_ <= levels_.size()) levels_[depth_ - 1].key = field_of(name);
    return true;
  }
  bool end_object() { return close(); }
  bool start_array(std::size_t /*elements*/) { return open(true); }
  bool end_array() { return close(); }
  bool parse_error(std::size_t /*position*/, const std::string& /*token*/,
                   const nlohmann::detail::exception& /*error*/) {
    return false;
  }

 private:
  struct level {
    place at = place::other;
    bool array = false;
    field key = field::other;  // objects: the key of the value being read
    std::size_t items = 0;     // arrays: the values read so far
  };

  place child_of(const level& parent) const {
    const auto key = parent.array ? field::other : parent.key;
    switch (parent.at) {
      case place::root:
        if (key == field::error) return place::error;
        if (key == field::choices) return place::choices;
        if (key == field::usage) return place::usage;
        return place::other;
      case place::error: return key == field::message ? place::error_message : place::other;
      case place::choices:
        return parent.array && parent.items == 0 ? place::first_choice : place::other;
      case place::first_choice:
        if (key == field::delta) return place::delta;
        if (key == field::finish_reason) return place::finish_reason;
        return place::other;
      case place::delta: return key == field::content ? place::content : place::other;
      case place::usage:
        if (key == field::prompt_tokens) return place::prompt_tokens;
        if (key == field::completion_tokens) return place::completion_tokens;
        return place::other;
      default: return place::other;
    }
  }

  place here() const {
    if (depth_ == 0) return place::root;
    if (depth_ > levels_.size()) return place::other;
    return child_of(levels_[depth_ - 1]);
  }

  // A value that is not what its place wants: an error that is no object or string
  // still says the stream failed.
  bool scalar() {
    if (here() == place::error) error_ = "unknown error";
    return scalar_done();
  }

  bool integer(std::int64_t value) {
    const auto at = here();
    if (at == place::prompt_tokens) chunk_.usage->prompt_tokens = value;
    if (at == place::completion_tokens) chunk_.usage->completion_tokens = value;
    return scalar();
  }

  // A value ended: the enclosing array has one more.
  void value_read() {
    if (depth_ > 0 && depth_ <= levels_.size() && levels_[depth_ - 1].array) {
      ++levels_[depth_ - 1].items;
    }
  }

  bool scalar_done() {
    value_read();
    return depth_ > 0;  // a bare scalar is no chunk: stop
  }

  bool open(bool array) {
    const auto at = here();
    if (at == place::root) {
      if (array) return false;  // not an object: no chunk
      root_seen_ = true;
    }
    if (at == place::error) error_ = "unknown error";  // unless its message, next, says more
    if (at == place::usage && !array) chunk_.usage.emplace();
    if (depth_ < levels_.size()) levels_[depth_] = level{at, array, field::other, 0};
    ++depth_;
    return true;
  }

  bool close() {
    --depth_;
    value_read();
    return true;
  }

  std::array<level, 4> levels_{};  // root, choices, the first choice, its delta
  std::size_t depth_ = 0;
  bool root_seen_ = false;
  openai_chunk chunk_;
  std::optional<std::string> error_;
};

}  // namespace

std::optional<openai_chunk> parse_openai_chunk(std::string_view data) {
  chunk_reader reader;
  if (!json::sax_parse(data, &reader)) return std::nullopt;
  return reader.take();
}

}  // namespace parley::llm
