#pragma once

// The per-tenant knowledge indexes of this process, built lazily and versioned by
// tenants.knowledge_version. Every change to a tenant's knowledge (ingest, delete,
// assignment) bumps that version in the same transaction, so comparing it on each
// query (one indexed row read) is enough for every engine process to serve the
// current knowledge without a restart or a broadcast.
//
// Indexes are shared_ptr because they are truly shared: queries keep using the
// version they started with while a newer one replaces it in the cache.
//
// The cache holds at most `budget_bytes` of indexes (knowledge_index::memory_bytes):
// after a build that goes over, the least recently used other tenants' indexes are
// dropped, to be built again from PostgreSQL when their tenant asks next. One index
// larger than the whole budget is still served, and kept until the next build.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "rag/hashing_embedder.hpp"
#include "rag/knowledge_index.hpp"

namespace parley::rag {

class index_cache {
 public:
  index_cache(hashing_embedder embedder, std::size_t budget_bytes)
      : embedder_(std::move(embedder)), budget_bytes_(budget_bytes) {}

  const hashing_embedder& embedder() const noexcept { return embedder_; }

  // The tenant's index at `version`. When the cached one has another version (or was
  // dropped), `load` reads the corpus and a new index replaces it; concurrent callers
  // for the same tenant wait for that one build instead of loading again. Blocking:
  // call it off the event loop (it runs inside a database call).
  std::shared_ptr<const knowledge_index> get(const std::string& tenant_id, std::int64_t version,
                                             const std::function<corpus()>& load);

  // What the cached indexes take, and how many tenants have one.
  std::size_t cached_bytes() const;
  std::size_t cached_tenants() const;

 private:
  struct entry;
  using recency_list = std::list<entry*>;  // entries with an index, most recently used first

  struct entry {
    std::mutex build_mutex;  // held while one caller builds this tenant's index
    std::int64_t version = -1;
    std::shared_ptr<const knowledge_index> index;
    recency_list::iterator position;  // in recency_, while index is set
  };

  // Drops least recently used indexes other than `keep` while over the budget.
  // mutex_ must be held.
  void evict_over_budget(const entry* keep);

  hashing_embedder embedder_;
  const std::size_t budget_bytes_;
  mutable std::mutex mutex_;  // guards everything below and each entry's version/index/position
  std::unordered_map<std::string, std::unique_ptr<entry>> entries_;
  recency_list recency_;
  std::size_t cached_bytes_ = 0;
};

}  // namespace parley::rag
