#pragma once

// JSON-line event logging. One line per event:
//   {"ts":"2025-01-01T00:00:00.000Z","level":"info","event":"request", ...fields}
//
//   obs::info("index_load", {{"tenant_id", id}, {"chunks", n}, {"ttft_ms", maybe_ms}});
//
// Fields are plain C++ values, so code that must not see nlohmann/json (the chat
// pipeline) logs like everything else. The line is dumped with invalid UTF-8
// replaced, so logging never throws. Never pass secrets (keys, tokens, OTPs,
// provider keys); pass raw prompts or model output only when prompts_enabled() says
// so.

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace parley::config {
struct logging_config;
}

namespace parley::obs {

enum class level { debug, info, warn, error };

// JSON produced elsewhere (base::dump_json), placed in the line as it is.
struct json_text {
  std::string_view text;
};

// One field's value. It refers to the caller's data, which lives until the end of
// the log call's full expression.
class value {
 public:
  value(std::nullptr_t) noexcept {}
  value(bool b) noexcept : v_(b) {}
  template <std::signed_integral T>
  value(T n) noexcept : v_(static_cast<std::int64_t>(n)) {}
  template <std::unsigned_integral T>
  requires(!std::same_as<T, bool>) value(T n)
  noexcept : v_(static_cast<std::uint64_t>(n)) {}
  template <std::floating_point T>
  value(T x) noexcept : v_(static_cast<double>(x)) {}
  value(const char* s) noexcept : v_(std::string_view(s)) {}
  value(std::string_view s) noexcept : v_(s) {}
  value(const std::string& s) noexcept : v_(std::string_view(s)) {}
  value(const std::vector<std::string>& list) noexcept : v_(&list) {}
  value(json_text j) noexcept : v_(j) {}
  template <class T>
  value(const std::optional<T>& o) noexcept {
    if (o) *this = value(*o);
  }

  using variant = std::variant<std::monostate, bool, std::int64_t, std::uint64_t, double,
                               std::string_view, const std::vector<std::string>*, json_text>;
  const variant& get() const noexcept { return v_; }

 private:
  variant v_;
};

struct field {
  std::string_view name;
  obs::value value;
};

using fields = std::initializer_list<field>;

// Sets level, destination (file or stderr) and log_prompts. Call once at start-up;
// before that, info and above go to stderr. Throws std::runtime_error if the file
// cannot be opened.
void init(const config::logging_config& cfg);

bool enabled(level lvl) noexcept;
bool prompts_enabled() noexcept;

// Appends `f` after ts/level/event. Thread-safe; one write per line.
void log(level lvl, std::string_view event, fields f = {}) noexcept;

inline void debug(std::string_view event, fields f = {}) noexcept { log(level::debug, event, f); }
inline void info(std::string_view event, fields f = {}) noexcept { log(level::info, event, f); }
inline void warn(std::string_view event, fields f = {}) noexcept { log(level::warn, event, f); }
inline void error(std::string_view event, fields f = {}) noexcept { log(level::error, event, f); }

}  // namespace parley::obs
