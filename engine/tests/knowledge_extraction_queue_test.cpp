// The extraction queue: one document at a time, tenants taking turns, bounded.

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <vector>

#include "knowledge/extraction_queue.hpp"

namespace parley::knowledge {
namespace {

processing_job job(std::string tenant, std::string id, std::size_t bytes = 10) {
  processing_job j;
  j.tenant_id = std::move(tenant);
  j.document_id = std::move(id);
  j.bytes = std::string(bytes, 'x');
  return j;
}

// Records the order documents were processed in; the first job blocks until
// released, so that the others queue up behind it.
struct recorder {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<std::string> order;
  bool released = false;

  void work(const processing_job& j) {
    std::unique_lock lock(mutex);
    changed.wait(lock, [this] { return released; });
    order.push_back(j.document_id);
    changed.notify_all();
  }

  void wait_for(std::size_t n) {
    std::unique_lock lock(mutex);
    ASSERT_TRUE(
        changed.wait_for(lock, std::chrono::seconds(10), [&] { return order.size() == n; }));
  }

  void release() {
    std::lock_guard lock(mutex);
    released = true;
    changed.notify_all();
  }
};

TEST(ExtractionQueue, TenantsTakeTurns) {
  recorder r;
  extraction_queue q([&r](const processing_job& j) { r.work(j); }, 1 << 20);
  q.push(job("a", "a0"));  // taken at once, held until release
  for (int i = 1; i <= 3; ++i) q.push(job("a", "a" + std::to_string(i)));
  q.push(job("b", "b1"));
  q.push(job("c", "c1"));
  r.release();
  r.wait_for(6);
  // After a0: the tenants after "a" in turn, then a's backlog.
  EXPECT_EQ(r.order, (std::vector<std::string>{"a0", "b1", "c1", "a1", "a2", "a3"}));
}

TEST(ExtractionQueue, BoundsTheBytesWaiting) {
  recorder r;
  extraction_queue q([&r](const processing_job& j) { r.work(j); }, 100);
  EXPECT_TRUE(q.has_room(100));
  q.push(job("a", "a0", 60));
  EXPECT_TRUE(q.has_room(40));
  EXPECT_FALSE(q.has_room(41));
  r.release();
  r.wait_for(1);
  for (int i = 0; i < 100 && q.pending_bytes() != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(q.pending_bytes(), 0u);
  EXPECT_TRUE(q.has_room(100));
}

}  // namespace
}  // namespace parley::knowledge
