#pragma once

// What the HTTP layer has open right now, for GET /metrics (api/ops): the engine's
// own count, so that a load test or an operator can tell whether the streams the
// edge holds really reached the engine.

#include <atomic>
#include <cstdint>

namespace parley::http {

struct stats {
  std::atomic<std::int64_t> connections_open{0};  // from the edge
  std::atomic<std::int64_t> streams_open{0};      // SSE responses
};

// Counts one open thing for as long as it lives.
class gauge_hold {
 public:
  explicit gauge_hold(std::atomic<std::int64_t>& gauge) noexcept : gauge_(gauge) {
    gauge_.fetch_add(1, std::memory_order_relaxed);
  }
  ~gauge_hold() { gauge_.fetch_sub(1, std::memory_order_relaxed); }
  gauge_hold(const gauge_hold&) = delete;
  gauge_hold& operator=(const gauge_hold&) = delete;

 private:
  std::atomic<std::int64_t>& gauge_;
};

}  // namespace parley::http
