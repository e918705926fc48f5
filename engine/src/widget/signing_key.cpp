#include "widget/signing_key.hpp"

#include <stdexcept>

namespace parley::widget {

signing_key::signing_key(const std::vector<config::ring_key>& ring)
    : ring_(std::make_shared<const std::vector<config::ring_key>>(ring)) {
  if (!ring.empty()) key_ = std::make_shared<const config::ring_key>(ring.back());
}

std::shared_ptr<const config::ring_key> signing_key::current() const {
  const std::lock_guard lock(mutex_);
  return key_;
}

std::shared_ptr<const std::vector<config::ring_key>> signing_key::ring() const {
  const std::lock_guard lock(mutex_);
  return ring_;
}

void signing_key::replace(const std::vector<config::ring_key>& ring) {
  if (ring.empty()) throw std::invalid_argument("a key ring without keys");
  auto next = std::make_shared<const config::ring_key>(ring.back());
  auto all = std::make_shared<const std::vector<config::ring_key>>(ring);
  const std::lock_guard lock(mutex_);
  key_ = std::move(next);
  ring_ = std::move(all);
}

}  // namespace parley::widget
