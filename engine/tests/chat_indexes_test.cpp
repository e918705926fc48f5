// One build per tenant and version, however many requests ask at once; a failed
// read reaches every request that waited for it, and the next one tries again.

#include "chat/indexes.hpp"
#include "rag/hashing_embedder.hpp"

#include <gtest/gtest.h>

#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

namespace parley::chat {
namespace {

namespace asio = boost::asio;

rag::corpus one_chunk(const rag::hashing_embedder& e, const std::string& text) {
  rag::corpus c;
  c.documents = {{"d1", "Doc", "doc.md"}};
  c.chunks = {{"c1", "d1", 0, text, e.model(), e.embed(text), {}, 0}};
  c.assignments = {{"a1", "d1"}};
  return c;
}

// A reader that takes a while (as a large tenant's does), counting its reads.
struct slow_reader {
  rag::hashing_embedder embedder{64};
  std::atomic<int> reads{0};
  std::atomic<bool> fail{false};

  indexes::corpus_reader reader() {
    return [this](const std::string&) -> asio::awaitable<indexes::corpus_source> {
      ++reads;
      asio::steady_timer wait(co_await asio::this_coro::executor, std::chrono::milliseconds(50));
      co_await wait.async_wait(asio::use_awaitable);
      if (fail) throw std::runtime_error("database unavailable");
      co_return [this] {
        return indexes::indexable{one_chunk(embedder, "rockets"),
                                  {"hashing", embedder.model(), embedder.dimensions()},
                                  {}};
      };
    };
  }
};

// Parameters, not lambda captures: the coroutine outlives the loop that spawns it.
asio::awaitable<void> ask(indexes& idx, std::shared_ptr<const rag::knowledge_index>& slot,
                          std::atomic<int>& failed) {
  try {
    slot = co_await idx.get("tenant-a", 7);
  } catch (const std::runtime_error&) {
    ++failed;
  }
}

// Runs `n` concurrent get() calls on a two-thread loop; returns what each got.
std::vector<std::shared_ptr<const rag::knowledge_index>> concurrent_gets(indexes& idx, int n,
                                                                         int* failures) {
  asio::io_context io(2);
  std::vector<std::shared_ptr<const rag::knowledge_index>> got(n);
  std::atomic<int> failed{0};
  for (int i = 0; i < n; ++i) {
    asio::co_spawn(asio::make_strand(io), ask(idx, got[i], failed), asio::detached);
  }
  std::thread other([&io] { io.run(); });
  io.run();
  other.join();
  *failures = failed;
  return got;
}

TEST(ChatIndexes, ConcurrentRequestsShareOneBuild) {
  slow_reader source;
  indexes idx(std::size_t{1} << 30, source.reader());
  int failures = 0;
  const auto got = concurrent_gets(idx, 8, &failures);
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(source.reads, 1);
  for (const auto& index : got) {
    ASSERT_NE(index, nullptr);
    EXPECT_EQ(index, got.front());
  }
  EXPECT_EQ(got.front()->search("a1", "rockets", source.embedder.embed("rockets"), {}).size(), 1U);
  EXPECT_EQ(idx.cache().cached_tenants(), 1U);
}

TEST(ChatIndexes, AFailedReadReachesEveryWaiterAndTheNextRequestRetries) {
  slow_reader source;
  source.fail = true;
  indexes idx(std::size_t{1} << 30, source.reader());
  int failures = 0;
  concurrent_gets(idx, 4, &failures);
  EXPECT_EQ(failures, 4);
  EXPECT_EQ(source.reads, 1);

  source.fail = false;
  const auto got = concurrent_gets(idx, 2, &failures);
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(source.reads, 2);
  ASSERT_NE(got.front(), nullptr);
}

}  // namespace
}  // namespace parley::chat
