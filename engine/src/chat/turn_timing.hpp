#pragma once

// Where a turn's time went: microseconds from the request's arrival at the engine to
// each stage, logged with the turn (the chat_completion line's *_us fields), so that
// a slow first token names the stage that made it slow.

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace parley::chat {

class turn_timing {
 public:
  using clock = std::chrono::steady_clock;

  enum class stage : std::uint8_t {
    context,      // the agent, session and knowledge version known
    retrieval,    // the passages found
    upstream,     // the provider call started
    first_token,  // the first token handed to the front end
    stored,       // the turn durable (the question, and the answer if any)
    count_
  };

  explicit turn_timing(clock::time_point received) noexcept : received_(received) {}

  // The first mark of a stage counts.
  void mark(stage s, clock::time_point when = clock::now()) noexcept {
    auto& at = at_[static_cast<std::size_t>(s)];
    if (!at) at = std::chrono::duration_cast<std::chrono::microseconds>(when - received_);
  }
  std::optional<std::int64_t> us(stage s) const noexcept {
    const auto& at = at_[static_cast<std::size_t>(s)];
    if (!at) return std::nullopt;
    return at->count();
  }

 private:
  clock::time_point received_;
  std::array<std::optional<std::chrono::microseconds>, static_cast<std::size_t>(stage::count_)>
      at_{};
};

}  // namespace parley::chat
