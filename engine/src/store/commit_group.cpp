#include "store/commit_group.hpp"

#include <boost/asio/post.hpp>

#include <algorithm>
#include <iterator>

namespace parley::store {

commit_group::commit_group(asio::thread_pool& threads, commit_fn commit, std::size_t max_writes)
    : threads_(threads),
      commit_(std::move(commit)),
      max_writes_(std::max<std::size_t>(1, max_writes)) {}

void commit_group::submit(pending_write write) {
  const std::lock_guard lock(mutex_);
  queue_.push_back(std::move(write));
  if (committing_) return;  // the running drain takes it with the next group
  committing_ = true;
  asio::post(threads_, [this] { drain(); });
}

void commit_group::drain() {
  for (;;) {
    std::vector<pending_write> group;
    {
      const std::lock_guard lock(mutex_);
      if (queue_.empty()) {
        committing_ = false;
        return;
      }
      const auto n = std::min(queue_.size(), max_writes_);
      group.assign(std::make_move_iterator(queue_.begin()),
                   std::make_move_iterator(queue_.begin() + static_cast<std::ptrdiff_t>(n)));
      queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
    }
    commit_(group);
  }
}

}  // namespace parley::store
