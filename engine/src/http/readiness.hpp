#pragma once

// Whether serve's start-up checks have passed (fail closed: SPEC §1 rule 4). Until
// they have, every route that needs a context answers 503 not_ready; /healthz
// still answers, and /readyz says the engine is not ready.

#include <atomic>

namespace parley::http {

class readiness {
 public:
  bool ready() const noexcept { return ready_.load(std::memory_order_acquire); }
  void set_ready() noexcept { ready_.store(true, std::memory_order_release); }

 private:
  std::atomic<bool> ready_{false};
};

}  // namespace parley::http
