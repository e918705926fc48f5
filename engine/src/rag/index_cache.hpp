#pragma once

// The per-tenant knowledge indexes of this process, built lazily and versioned by
// tenants.knowledge_version. Every change to a tenant's knowledge (ingest, delete,
// assignment) bumps that version in the same transaction, so comparing it on each
// query (one indexed row read) is enough for every engine process to serve the
// current knowledge without a restart or a broadcast.
//
// Indexes are shared_ptr because they are truly shared: queries keep using the
// version they started with while a newer one replaces it in the cache.

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "rag/hashing_embedder.hpp"
#include "rag/knowledge_index.hpp"

namespace parley::rag {

class index_cache {
 public:
  explicit index_cache(hashing_embedder embedder) : embedder_(std::move(embedder)) {}

  const hashing_embedder& embedder() const noexcept { return embedder_; }

  // The tenant's index at `version`. When the cached one has another version, `load`
  // reads the corpus and a new index replaces it; concurrent callers for the same
  // tenant wait for that one build instead of loading again. Blocking: call it off
  // the event loop (it runs inside a database call).
  std::shared_ptr<const knowledge_index> get(const std::string& tenant_id, std::int64_t version,
                                             const std::function<corpus()>& load);

 private:
  struct entry {
    std::mutex build_mutex;  // held while one caller builds this tenant's index
    std::int64_t version = -1;
    std::shared_ptr<const knowledge_index> index;
  };

  hashing_embedder embedder_;
  std::mutex mutex_;  // guards entries_ and each entry's version/index
  std::unordered_map<std::string, std::unique_ptr<entry>> entries_;
};

}  // namespace parley::rag
