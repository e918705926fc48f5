#include "obs/log.hpp"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <type_traits>

#include "base/json.hpp"
#include "config/config.hpp"

namespace parley::obs {
namespace {

std::atomic<int> min_level{static_cast<int>(level::info)};
std::atomic<bool> log_prompts{false};

// spdlog only carries finished lines (pattern "%v"): it gives us a thread-safe
// sink for stderr or a file; the JSON is built here.
std::shared_ptr<spdlog::logger> make_logger(const std::string& file) {
  std::shared_ptr<spdlog::logger> logger;
  if (file.empty()) {
    logger = std::make_shared<spdlog::logger>("parley",
                                              std::make_shared<spdlog::sinks::stderr_sink_mt>());
  } else {
    logger = std::make_shared<spdlog::logger>(
        "parley", std::make_shared<spdlog::sinks::basic_file_sink_mt>(file));
  }
  logger->set_pattern("%v");
  logger->set_level(spdlog::level::trace);
  logger->flush_on(spdlog::level::trace);
  return logger;
}

std::mutex logger_mutex;
std::shared_ptr<spdlog::logger>& logger_slot() {
  static std::shared_ptr<spdlog::logger> logger = make_logger("");
  return logger;
}

std::shared_ptr<spdlog::logger> current_logger() {
  std::lock_guard lock(logger_mutex);
  return logger_slot();
}

std::string_view level_name(level lvl) noexcept {
  switch (lvl) {
    case level::debug: return "debug";
    case level::info: return "info";
    case level::warn: return "warn";
    case level::error: return "error";
  }
  return "info";
}

level parse_level(const std::string& text) {
  if (text == "debug") return level::debug;
  if (text == "info") return level::info;
  if (text == "warn") return level::warn;
  if (text == "error") return level::error;
  throw std::runtime_error("unknown log level: " + text);
}

std::string utc_timestamp() {
  using namespace std::chrono;
  const auto now = system_clock::now();
  const auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return buf;
}

std::string to_json_text(const value& v) {
  return std::visit(
      [](const auto& x) -> std::string {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          return "null";
        } else if constexpr (std::is_same_v<T, json_text>) {
          return x.text.empty() ? "null" : std::string(x.text);
        } else if constexpr (std::is_same_v<T, const std::vector<std::string>*>) {
          return base::dump_json(*x);
        } else {
          return base::dump_json(x);
        }
      },
      v.get());
}

}  // namespace

void init(const config::logging_config& cfg) {
  const level lvl = parse_level(cfg.level);
  auto logger = make_logger(cfg.file);
  {
    std::lock_guard lock(logger_mutex);
    logger_slot() = std::move(logger);
  }
  min_level = static_cast<int>(lvl);
  log_prompts = cfg.log_prompts;
}

bool enabled(level lvl) noexcept { return static_cast<int>(lvl) >= min_level.load(); }

bool prompts_enabled() noexcept { return log_prompts.load(); }

void log(level lvl, std::string_view event, fields f) noexcept {
  if (!enabled(lvl)) return;
  try {
    // Built by hand so ts/level/event come first, in this order.
    std::string line = "{\"ts\":\"" + utc_timestamp() + "\",\"level\":\"";
    line += level_name(lvl);
    line += "\",\"event\":";
    line += base::dump_json(nlohmann::json(event));
    for (const auto& [name, v] : f) {
      line += ',';
      line += base::dump_json(nlohmann::json(name));
      line += ':';
      line += to_json_text(v);
    }
    line += '}';
    current_logger()->info(line);
  } catch (...) {
    // Logging must never take a request down (allocation failure, closed file).
  }
}

}  // namespace parley::obs
