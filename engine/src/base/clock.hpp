#pragma once

// Wall-clock time as Unix timestamps: what contexts, widget tokens and API objects
// carry, and when a stored message was said. Durations inside the process use
// std::chrono::steady_clock instead.

#include <chrono>
#include <cstdint>

namespace parley::base {

inline std::int64_t unix_seconds() noexcept {
  using namespace std::chrono;
  return duration_cast<seconds>(system_clock::now().time_since_epoch()).count();
}

inline std::int64_t unix_millis() noexcept {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

inline std::int64_t unix_micros() noexcept {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace parley::base
