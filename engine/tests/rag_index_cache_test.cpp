#include "rag/index_cache.hpp"

#include <gtest/gtest.h>

#include <map>
#include <memory>

namespace parley::rag {
namespace {

constexpr std::size_t unlimited = std::size_t{1} << 40;

corpus one_chunk(const hashing_embedder& e, const std::string& text) {
  corpus c;
  c.documents = {{"d1", "Doc", "doc.md"}};
  c.chunks = {{"c1", "d1", 0, text, e.model(), e.embed(text)}};
  c.assignments = {{"a1", "d1"}};
  return c;
}

TEST(RagIndexCache, LoadsOncePerVersion) {
  index_cache cache(hashing_embedder(64), unlimited);
  int loads = 0;
  const auto load = [&] {
    ++loads;
    return one_chunk(cache.embedder(), "rockets");
  };
  const auto first = cache.get("tenant-a", 3, load);
  const auto again = cache.get("tenant-a", 3, load);
  EXPECT_EQ(loads, 1);
  EXPECT_EQ(first, again);
}

TEST(RagIndexCache, ReloadsWhenTheVersionChanges) {
  index_cache cache(hashing_embedder(64), unlimited);
  const auto v1 = cache.get("tenant-a", 1, [&] { return one_chunk(cache.embedder(), "rockets"); });
  const auto v2 = cache.get("tenant-a", 2, [&] { return one_chunk(cache.embedder(), "bread"); });
  EXPECT_NE(v1, v2);
  EXPECT_EQ(v1->search("a1", "rockets", {}).size(), 1U);  // old snapshot still usable
  EXPECT_TRUE(v2->search("a1", "rockets", {}).empty());
  EXPECT_EQ(v2->search("a1", "bread", {}).size(), 1U);
}

TEST(RagIndexCache, TenantsAreSeparate) {
  index_cache cache(hashing_embedder(64), unlimited);
  const auto a = cache.get("tenant-a", 1, [&] { return one_chunk(cache.embedder(), "rockets"); });
  const auto b = cache.get("tenant-b", 1, [&] { return one_chunk(cache.embedder(), "bread"); });
  EXPECT_TRUE(b->search("a1", "rockets", {}).empty());
  EXPECT_EQ(a->search("a1", "rockets", {}).size(), 1U);
}

TEST(RagIndexCache, AFailedLoadLeavesTheCacheUsable) {
  index_cache cache(hashing_embedder(64), unlimited);
  EXPECT_THROW(cache.get("tenant-a", 1, []() -> corpus { throw std::runtime_error("db down"); }),
               std::runtime_error);
  const auto ok = cache.get("tenant-a", 1, [&] { return one_chunk(cache.embedder(), "rockets"); });
  EXPECT_EQ(ok->chunk_count(), 1U);
}

// About two and a half one-chunk indexes.
std::size_t small_budget() {
  const hashing_embedder e(64);
  const knowledge_index one(one_chunk(e, "rockets"), e);
  return 2 * one.memory_bytes() + one.memory_bytes() / 2;
}

// A cache of that budget, counting the loads of each tenant.
struct counting_cache {
  index_cache cache{hashing_embedder(64), small_budget()};
  std::map<std::string, int> loads;

  std::shared_ptr<const knowledge_index> get(const std::string& tenant) {
    return cache.get(tenant, 1, [&] {
      ++loads[tenant];
      return one_chunk(cache.embedder(), "rockets");
    });
  }
};

TEST(RagIndexCache, CountsWhatItsIndexesTake) {
  index_cache cache(hashing_embedder(64), unlimited);
  const auto a = cache.get("tenant-a", 1, [&] { return one_chunk(cache.embedder(), "rockets"); });
  // at least the vector row and the chunk's text
  EXPECT_GE(a->memory_bytes(), 64 * sizeof(float) + std::string("rockets").size());
  EXPECT_EQ(cache.cached_bytes(), a->memory_bytes());
  const auto v2 = cache.get("tenant-a", 2, [&] { return one_chunk(cache.embedder(), "bread"); });
  EXPECT_EQ(cache.cached_bytes(), v2->memory_bytes());  // the old version no longer counts
}

TEST(RagIndexCache, OverTheBudgetTheLeastRecentlyUsedIndexIsDropped) {
  counting_cache c;
  c.get("tenant-a");
  c.get("tenant-b");
  c.get("tenant-a");  // a is now more recent than b
  EXPECT_EQ(c.cache.cached_tenants(), 2U);
  c.get("tenant-c");  // over the budget: b goes
  EXPECT_EQ(c.cache.cached_tenants(), 2U);
  EXPECT_LE(c.cache.cached_bytes(), small_budget());
  c.get("tenant-a");
  c.get("tenant-c");
  EXPECT_EQ(c.loads["tenant-a"], 1);
  EXPECT_EQ(c.loads["tenant-c"], 1);
  c.get("tenant-b");  // built again from the database
  EXPECT_EQ(c.loads["tenant-b"], 2);
}

TEST(RagIndexCache, AnIndexLargerThanTheBudgetIsStillServed) {
  index_cache cache(hashing_embedder(64), 1);
  const auto a = cache.get("tenant-a", 1, [&] { return one_chunk(cache.embedder(), "rockets"); });
  EXPECT_EQ(a->search("a1", "rockets", {}).size(), 1U);
  EXPECT_EQ(cache.cached_tenants(), 1U);
  cache.get("tenant-b", 1, [&] { return one_chunk(cache.embedder(), "bread"); });
  EXPECT_EQ(cache.cached_tenants(), 1U);   // a made way for b
  EXPECT_EQ(a->search("a1", "rockets", {}).size(), 1U);  // a query holding a still works
}

}  // namespace
}  // namespace parley::rag
