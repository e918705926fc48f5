#include "rag/index_cache.hpp"
#include "rag/hashing_embedder.hpp"

#include <gtest/gtest.h>

#include <map>
#include <memory>

namespace parley::rag {
namespace {

constexpr std::size_t unlimited = std::size_t{1} << 40;

corpus one_chunk(const hashing_embedder& e, const std::string& text) {
  corpus c;
  c.documents = {{"d1", "Doc", "doc.md"}};
  c.chunks = {{"c1", "d1", 0, text, e.model(), e.embed(text), {}, 0}};
  c.assignments = {{"a1", "d1"}};
  return c;
}

// How many passages agent a1 gets for `query`, embedded as the index's embedder does.
std::size_t hits(const knowledge_index& index, std::string_view query) {
  return index.search("a1", query, hashing_embedder(index.space().dimensions).embed(query), {})
      .size();
}

// A cache used the way chat/indexes.cpp uses it (find, else build and put),
// counting the builds of each tenant.
struct counting_cache {
  explicit counting_cache(std::size_t budget) : cache(budget) {}

  std::shared_ptr<const knowledge_index> get(const std::string& tenant, std::int64_t version = 1,
                                             const std::string& text = "rockets") {
    if (auto hit = cache.find(tenant, version)) return hit;
    ++builds[tenant];
    auto index = std::make_shared<const knowledge_index>(
        one_chunk(embedder, text),
        embedding_space{"hashing", embedder.model(), embedder.dimensions()});
    cache.put(tenant, version, index);
    return index;
  }

  hashing_embedder embedder{64};
  index_cache cache;
  std::map<std::string, int> builds;
};

TEST(RagIndexCache, BuildsOncePerVersion) {
  counting_cache c(unlimited);
  const auto first = c.get("tenant-a", 3);
  const auto again = c.get("tenant-a", 3);
  EXPECT_EQ(c.builds["tenant-a"], 1);
  EXPECT_EQ(first, again);
}

TEST(RagIndexCache, AnotherVersionIsAMiss) {
  counting_cache c(unlimited);
  const auto v1 = c.get("tenant-a", 1, "rockets");
  EXPECT_EQ(c.cache.find("tenant-a", 2), nullptr);
  const auto v2 = c.get("tenant-a", 2, "bread");
  EXPECT_NE(v1, v2);
  EXPECT_EQ(hits(*v1, "rockets"), 1U);  // old snapshot still usable
  EXPECT_EQ(hits(*v2, "rockets"), 0U);
  EXPECT_EQ(hits(*v2, "bread"), 1U);
  EXPECT_EQ(c.cache.find("tenant-a", 2), v2);
}

TEST(RagIndexCache, TenantsAreSeparate) {
  counting_cache c(unlimited);
  const auto a = c.get("tenant-a", 1, "rockets");
  const auto b = c.get("tenant-b", 1, "bread");
  EXPECT_EQ(hits(*b, "rockets"), 0U);
  EXPECT_EQ(hits(*a, "rockets"), 1U);
  EXPECT_EQ(c.cache.find("tenant-c", 1), nullptr);
}

// About two and a half one-chunk indexes.
std::size_t small_budget() {
  const hashing_embedder e(64);
  const knowledge_index one(one_chunk(e, "rockets"), {"hashing", e.model(), e.dimensions()});
  return 2 * one.memory_bytes() + one.memory_bytes() / 2;
}

TEST(RagIndexCache, CountsWhatItsIndexesTake) {
  counting_cache c(unlimited);
  const auto a = c.get("tenant-a", 1, "rockets");
  // at least the vector row and the chunk's text
  EXPECT_GE(a->memory_bytes(), 64 * sizeof(float) + std::string("rockets").size());
  EXPECT_EQ(c.cache.cached_bytes(), a->memory_bytes());
  const auto v2 = c.get("tenant-a", 2, "bread");
  EXPECT_EQ(c.cache.cached_bytes(), v2->memory_bytes());  // the old version no longer counts
}

TEST(RagIndexCache, OverTheBudgetTheLeastRecentlyUsedIndexIsDropped) {
  counting_cache c(small_budget());
  c.get("tenant-a");
  c.get("tenant-b");
  c.get("tenant-a");  // a is now more recent than b
  EXPECT_EQ(c.cache.cached_tenants(), 2U);
  c.get("tenant-c");  // over the budget: b goes
  EXPECT_EQ(c.cache.cached_tenants(), 2U);
  EXPECT_LE(c.cache.cached_bytes(), small_budget());
  c.get("tenant-a");
  c.get("tenant-c");
  EXPECT_EQ(c.builds["tenant-a"], 1);
  EXPECT_EQ(c.builds["tenant-c"], 1);
  c.get("tenant-b");  // built again from the database
  EXPECT_EQ(c.builds["tenant-b"], 2);
}

TEST(RagIndexCache, AnIndexLargerThanTheBudgetIsStillServed) {
  counting_cache c(1);
  const auto a = c.get("tenant-a", 1, "rockets");
  EXPECT_EQ(hits(*a, "rockets"), 1U);
  EXPECT_EQ(c.cache.cached_tenants(), 1U);
  c.get("tenant-b", 1, "bread");
  EXPECT_EQ(c.cache.cached_tenants(), 1U);  // a made way for b
  EXPECT_EQ(hits(*a, "rockets"), 1U);       // a query holding a still works
}

}  // namespace
}  // namespace parley::rag
