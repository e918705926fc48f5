#pragma once

// The key the engine mints widget tokens with: the key ring's last key. `parley serve`
// replaces it when it gets SIGHUP, so a rotation is "append a key to the ring, reload
// nginx (the edge then accepts it), reload the engine (which then signs with it)"; in
// that order no token is ever minted with a key the edge does not know yet. Read by
// every session request, on any of the server's threads.

#include <memory>
#include <mutex>
#include <vector>

#include "config/key_ring.hpp"

namespace parley::widget {

class signing_key {
 public:
  // The ring's last key; an empty ring switches the widget off.
  explicit signing_key(const std::vector<config::ring_key>& ring);

  // Null while the widget is switched off.
  std::shared_ptr<const config::ring_key> current() const;

  // Every key of the ring, which verifies what the widget's credentials bring back
  // (widget/credentials.hpp): one minted before a rotation stays good.
  std::shared_ptr<const std::vector<config::ring_key>> ring() const;

  // A new ring, read without problems: its last key signs from now on. Requests
  // holding the previous key keep it intact.
  void replace(const std::vector<config::ring_key>& ring);

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const config::ring_key> key_;
  std::shared_ptr<const std::vector<config::ring_key>> ring_;
};

}  // namespace parley::widget
