#pragma once

// JSON-line event logging. One line per event:
//   {"ts":"2025-01-01T00:00:00.000Z","level":"info","event":"request", ...fields}
// Field values go through nlohmann::json, whose dump replaces invalid UTF-8, so
// logging never throws. Never pass secrets (keys, tokens, OTPs, provider keys);
// pass raw prompts or model output only when prompts_enabled() says so.

#include <nlohmann/json.hpp>

#include <string_view>

namespace parley::config {
struct logging_config;
}

namespace parley::obs {

enum class level { debug, info, warn, error };

// Sets level, destination (file or stderr) and log_prompts. Call once at start-up;
// before that, info and above go to stderr. Throws std::runtime_error if the file
// cannot be opened.
void init(const config::logging_config& cfg);

bool enabled(level lvl) noexcept;
bool prompts_enabled() noexcept;

// `fields` must be a JSON object (or null); its members are appended after
// ts/level/event. Thread-safe; one write per line.
void log(level lvl, std::string_view event, const nlohmann::json& fields = {}) noexcept;

inline void debug(std::string_view event, const nlohmann::json& fields = {}) noexcept {
  log(level::debug, event, fields);
}
inline void info(std::string_view event, const nlohmann::json& fields = {}) noexcept {
  log(level::info, event, fields);
}
inline void warn(std::string_view event, const nlohmann::json& fields = {}) noexcept {
  log(level::warn, event, fields);
}
inline void error(std::string_view event, const nlohmann::json& fields = {}) noexcept {
  log(level::error, event, fields);
}

// A JSON dump that cannot throw on invalid UTF-8 (replaces it with U+FFFD); use it
// for log lines, SSE frames and response bodies built from untrusted text.
std::string dump(const nlohmann::json& value);

}  // namespace parley::obs
