#pragma once

// The per-tenant knowledge indexes of this process, each tagged with the
// tenants.knowledge_version it was built at. Every change to a tenant's knowledge
// (ingest, delete, assignment) bumps that version in the same transaction, so
// comparing it on each query (one indexed row read) is enough for every engine
// process to serve the current knowledge without a restart or a broadcast.
//
// This is only the bookkeeping: who builds a missing index, and how concurrent
// requests wait for it, is chat/indexes.hpp. Indexes are shared_ptr because they
// are truly shared: queries keep using the version they started with while a newer
// one replaces it here.
//
// The cache holds at most `budget_bytes` of indexes (knowledge_index::memory_bytes):
// after a put that goes over, the least recently used other tenants' indexes are
// dropped, to be built again from PostgreSQL when their tenant asks next. One index
// larger than the whole budget is still served, and kept until the next put.

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "rag/knowledge_index.hpp"

namespace parley::rag {

class index_cache {
 public:
  explicit index_cache(std::size_t budget_bytes) : budget_bytes_(budget_bytes) {}

  // The tenant's index if it is cached at `version` (and marks it recently used);
  // null otherwise. Thread-safe, never blocks on a build.
  std::shared_ptr<const knowledge_index> find(const std::string& tenant_id, std::int64_t version);

  // Whether the tenant has an index here, at whatever version.
  bool holds(const std::string& tenant_id) const;

  // Replaces the tenant's index, then drops others while over the budget.
  void put(const std::string& tenant_id, std::int64_t version,
           std::shared_ptr<const knowledge_index> index);

  // What the cached indexes take, and how many tenants have one.
  std::size_t cached_bytes() const;
  std::size_t cached_tenants() const;

 private:
  struct entry;
  using recency_list = std::list<entry*>;  // entries with an index, most recently used first

  struct entry {
    std::int64_t version = -1;
    std::shared_ptr<const knowledge_index> index;
    recency_list::iterator position;  // in recency_, while index is set
  };

  // Drops least recently used indexes other than `keep` while over the budget.
  // mutex_ must be held.
  void evict_over_budget(const entry* keep);

  const std::size_t budget_bytes_;
  mutable std::mutex mutex_;  // guards everything below
  // Entries are never erased (only their index is), so recency_'s pointers stay valid.
  std::unordered_map<std::string, std::unique_ptr<entry>> entries_;
  recency_list recency_;
  std::size_t cached_bytes_ = 0;
};

}  // namespace parley::rag
