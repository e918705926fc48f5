#include "rag/index_cache.hpp"

#include <gtest/gtest.h>

namespace parley::rag {
namespace {

corpus one_chunk(const hashing_embedder& e, const std::string& text) {
  corpus c;
  c.documents = {{"d1", "Doc", "doc.md"}};
  c.chunks = {{"c1", "d1", 0, text, e.model(), e.embed(text)}};
  c.assignments = {{"a1", "d1"}};
  return c;
}

TEST(RagIndexCache, LoadsOncePerVersion) {
  index_cache cache(hashing_embedder(64));
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
  index_cache cache(hashing_embedder(64));
  const auto v1 = cache.get("tenant-a", 1, [&] { return one_chunk(cache.embedder(), "rockets"); });
  const auto v2 = cache.get("tenant-a", 2, [&] { return one_chunk(cache.embedder(), "bread"); });
  EXPECT_NE(v1, v2);
  EXPECT_EQ(v1->search("a1", "rockets", {}).size(), 1U);  // old snapshot still usable
  EXPECT_TRUE(v2->search("a1", "rockets", {}).empty());
  EXPECT_EQ(v2->search("a1", "bread", {}).size(), 1U);
}

TEST(RagIndexCache, TenantsAreSeparate) {
  index_cache cache(hashing_embedder(64));
  const auto a = cache.get("tenant-a", 1, [&] { return one_chunk(cache.embedder(), "rockets"); });
  const auto b = cache.get("tenant-b", 1, [&] { return one_chunk(cache.embedder(), "bread"); });
  EXPECT_TRUE(b->search("a1", "rockets", {}).empty());
  EXPECT_EQ(a->search("a1", "rockets", {}).size(), 1U);
}

TEST(RagIndexCache, AFailedLoadLeavesTheCacheUsable) {
  index_cache cache(hashing_embedder(64));
  EXPECT_THROW(cache.get("tenant-a", 1, []() -> corpus { throw std::runtime_error("db down"); }),
               std::runtime_error);
  const auto ok = cache.get("tenant-a", 1, [&] { return one_chunk(cache.embedder(), "rockets"); });
  EXPECT_EQ(ok->chunk_count(), 1U);
}

}  // namespace
}  // namespace parley::rag
