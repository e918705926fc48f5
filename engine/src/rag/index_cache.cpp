#include "rag/index_cache.hpp"

namespace parley::rag {

std::shared_ptr<const knowledge_index> index_cache::get(const std::string& tenant_id,
                                                        std::int64_t version,
                                                        const std::function<corpus()>& load) {
  entry* e = nullptr;
  {
    std::lock_guard lock(mutex_);
    auto& slot = entries_[tenant_id];
    if (!slot) slot = std::make_unique<entry>();
    e = slot.get();  // entries are never erased (only their index is), so the pointer stays valid
    if (e->index) recency_.splice(recency_.begin(), recency_, e->position);
    if (e->index && e->version == version) return e->index;
  }
  std::lock_guard build(e->build_mutex);
  {
    std::lock_guard lock(mutex_);
    if (e->index && e->version == version) return e->index;  // built while we waited
  }
  auto index = std::make_shared<const knowledge_index>(load(), embedder_);
  std::lock_guard lock(mutex_);
  if (e->index) {
    cached_bytes_ -= e->index->memory_bytes();
    recency_.erase(e->position);
  }
  e->version = version;
  e->index = index;
  e->position = recency_.insert(recency_.begin(), e);
  cached_bytes_ += index->memory_bytes();
  evict_over_budget(e);
  return index;
}

void index_cache::evict_over_budget(const entry* keep) {
  while (cached_bytes_ > budget_bytes_ && !recency_.empty() && recency_.back() != keep) {
    entry* oldest = recency_.back();
    recency_.pop_back();
    cached_bytes_ -= oldest->index->memory_bytes();
    oldest->index.reset();
    oldest->version = -1;
  }
}

std::size_t index_cache::cached_bytes() const {
  std::lock_guard lock(mutex_);
  return cached_bytes_;
}

std::size_t index_cache::cached_tenants() const {
  std::lock_guard lock(mutex_);
  return recency_.size();
}

}  // namespace parley::rag
