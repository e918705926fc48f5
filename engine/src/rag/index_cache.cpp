#include "rag/index_cache.hpp"

namespace parley::rag {

std::shared_ptr<const knowledge_index> index_cache::find(const std::string& tenant_id,
                                                         std::int64_t version) {
  std::lock_guard lock(mutex_);
  const auto it = entries_.find(tenant_id);
  if (it == entries_.end() || !it->second->index) return nullptr;
  entry& e = *it->second;
  recency_.splice(recency_.begin(), recency_, e.position);
  return e.version == version ? e.index : nullptr;
}

bool index_cache::holds(const std::string& tenant_id) const {
  std::lock_guard lock(mutex_);
  const auto it = entries_.find(tenant_id);
  return it != entries_.end() && it->second->index != nullptr;
}

void index_cache::put(const std::string& tenant_id, std::int64_t version,
                      std::shared_ptr<const knowledge_index> index) {
  std::lock_guard lock(mutex_);
  auto& slot = entries_[tenant_id];
  if (!slot) slot = std::make_unique<entry>();
  entry& e = *slot;
  if (e.index) {
    cached_bytes_ -= e.index->memory_bytes();
    recency_.erase(e.position);
  }
  cached_bytes_ += index->memory_bytes();
  e.version = version;
  e.index = std::move(index);
  e.position = recency_.insert(recency_.begin(), &e);
  evict_over_budget(&e);
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
