#include "store/commit_group.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <string>
#include <vector>

namespace parley::store {
namespace {

// A commit that records each group's tenants, and can hold the first group until
// released, as a slow transaction would.
struct recording_commit {
  std::mutex mutex;
  std::condition_variable cv;
  bool hold_first = false;
  bool released = false;
  bool first_started = false;
  std::vector<std::vector<std::string>> groups;

  void operator()(std::vector<pending_write>& writes) {
    std::unique_lock lock(mutex);
    std::vector<std::string> tenants;
    for (const auto& w : writes) tenants.push_back(w.tenant_id);
    groups.push_back(tenants);
    if (groups.size() == 1 && hold_first) {
      first_started = true;
      cv.notify_all();
      cv.wait(lock, [this] { return released; });
    }
    lock.unlock();
    for (auto& w : writes) w.done(nullptr);
  }

  void wait_until_first_started() {
    std::unique_lock lock(mutex);
    cv.wait(lock, [this] { return first_started; });
  }

  void release() {
    {
      const std::lock_guard lock(mutex);
      released = true;
    }
    cv.notify_all();
  }
};

pending_write write_for(std::string tenant, std::promise<void>& committed) {
  return {std::move(tenant), write_batch(),
          [&committed](std::exception_ptr) { committed.set_value(); }};
}

// Submits tenants[0], then the others while its commit is held, and releases it;
// answers the groups committed.
std::vector<std::vector<std::string>> commit_during_a_held_commit(
    const std::vector<std::string>& tenants, std::size_t max_writes, unsigned threads) {
  asio::thread_pool pool(threads);
  recording_commit commit;
  commit.hold_first = true;
  commit_group group(
      pool, [&commit](std::vector<pending_write>& w) { commit(w); }, max_writes, 1);

  std::vector<std::promise<void>> committed(tenants.size());
  group.submit(write_for(tenants[0], committed[0]));
  commit.wait_until_first_started();
  for (std::size_t i = 1; i < tenants.size(); ++i)
    group.submit(write_for(tenants[i], committed[i]));
  commit.release();
  for (auto& c : committed) c.get_future().wait();
  pool.join();
  return commit.groups;
}

TEST(StoreCommitGroup, WritesArrivingDuringACommitAreCommittedTogetherAfterIt) {
  const std::vector<std::vector<std::string>> expected{{"a"}, {"b", "c", "d"}};
  EXPECT_EQ(commit_during_a_held_commit({"a", "b", "c", "d"}, 64, 2), expected);
}

TEST(StoreCommitGroup, AGroupHoldsAtMostItsLimit) {
  const std::vector<std::vector<std::string>> expected{{"a"}, {"b", "c"}, {"d", "e"}, {"f"}};
  EXPECT_EQ(commit_during_a_held_commit({"a", "b", "c", "d", "e", "f"}, 2, 1), expected);
}

TEST(StoreCommitGroup, AWriteStuckInOneLaneDoesNotHoldUpAnother) {
  // Two tenants whose writes go to different lanes of two.
  const std::string held = "a";
  std::string other = "b";
  for (int i = 0; std::hash<std::string>{}(other) % 2 == std::hash<std::string>{}(held) % 2; ++i) {
    other = "b" + std::to_string(i);
  }
  asio::thread_pool threads(2);
  recording_commit commit;
  commit.hold_first = true;
  commit_group group(
      threads, [&commit](std::vector<pending_write>& w) { commit(w); }, 64, 2);

  std::promise<void> first;
  group.submit(write_for(held, first));
  commit.wait_until_first_started();
  std::promise<void> second;
  auto second_committed = second.get_future();
  group.submit(write_for(other, second));
  EXPECT_EQ(second_committed.wait_for(std::chrono::seconds(30)), std::future_status::ready);
  commit.release();
  first.get_future().wait();
  threads.join();
}

TEST(StoreCommitGroup, ALoneWriteIsCommittedWithoutWaitingForCompany) {
  asio::thread_pool threads(1);
  recording_commit commit;
  commit_group group(
      threads, [&commit](std::vector<pending_write>& w) { commit(w); }, 64, 1);

  std::promise<void> first;
  group.submit(write_for("a", first));
  first.get_future().wait();
  std::promise<void> second;
  group.submit(write_for("b", second));
  second.get_future().wait();
  threads.join();

  const std::vector<std::vector<std::string>> expected{{"a"}, {"b"}};
  EXPECT_EQ(commit.groups, expected);
}

}  // namespace
}  // namespace parley::store
