#include "store/commit_group.hpp"

#include <boost/asio/post.hpp>

#include <algorithm>
#include <iterator>

namespace parley::store {

commit_group::commit_group(asio::thread_pool& threads, commit_fn commit, std::size_t max_writes,
                           std::size_t lanes)
    : threads_(threads),
      commit_(std::move(commit)),
      max_writes_(std::max<std::size_t>(1, max_writes)) {
  lanes_.resize(std::max<std::size_t>(1, lanes));
  for (auto& l : lanes_) l = std::make_unique<lane>();
}

void commit_group::submit(pending_write write) {
  auto& l = *lanes_[std::hash<std::string>{}(write.tenant_id) % lanes_.size()];
  const std::lock_guard lock(l.mutex);
  l.queue.push_back(std::move(write));
  if (l.committing) return;  // the lane's job takes it with its next group
  l.committing = true;
  asio::post(threads_, [this, &l] { commit_next(l); });
}

void commit_group::commit_next(lane& l) {
  std::vector<pending_write> group;
  {
    const std::lock_guard lock(l.mutex);
    const auto n = std::min(l.queue.size(), max_writes_);
    group.assign(std::make_move_iterator(l.queue.begin()),
                 std::make_move_iterator(l.queue.begin() + static_cast<std::ptrdiff_t>(n)));
    l.queue.erase(l.queue.begin(), l.queue.begin() + static_cast<std::ptrdiff_t>(n));
  }
  commit_(group);
  const std::lock_guard lock(l.mutex);
  if (l.queue.empty()) {
    l.committing = false;
    return;
  }
  asio::post(threads_, [this, &l] { commit_next(l); });
}

}  // namespace parley::store
