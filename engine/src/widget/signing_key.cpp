#include "widget/signing_key.hpp"

#include "config/config.hpp"

namespace parley::widget {

signing_key::signing_key(const std::vector<ring_key>& ring) {
  if (!ring.empty()) key_ = std::make_shared<const ring_key>(ring.back());
}

std::shared_ptr<const ring_key> signing_key::current() const {
  const std::lock_guard lock(mutex_);
  return key_;
}

std::vector<std::string> signing_key::reload(const std::string& path) {
  auto ring = config::read_key_ring(path);
  if (!ring.problems.empty()) return std::move(ring.problems);
  auto next = std::make_shared<const ring_key>(std::move(ring.keys.back()));
  const std::lock_guard lock(mutex_);
  key_ = std::move(next);
  return {};
}

}  // namespace parley::widget
