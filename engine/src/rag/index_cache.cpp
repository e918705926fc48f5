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
    e->last_used = ++clock_;
    if (e->index && e->version == version) return e->index;
  }
  std::lock_guard build(e->build_mutex);
  {
    std::lock_guard lock(mutex_);
    if (e->index && e->version == version) return e->index;  // built while we waited
  }
  auto index = std::make_shared<const knowledge_index>(load(), embedder_);
  std::lock_guard lock(mutex_);
  if (e->index) cached_bytes_ -= e->index->memory_bytes();
  e->version = version;
  e->index = index;
  cached_bytes_ += index->memory_bytes();
  evict_over_budget(e);
  return index;
}

void index_cache::evict_over_budget(const entry* keep) {
  while (cached_bytes_ > budget_bytes_) {
    entry* oldest = nullptr;
    for (auto& [tenant, e] : entries_) {
      if (e.get() == keep || !e->index) continue;
      if (oldest == nullptr || e->last_used < oldest->last_used) oldest = e.get();
    }
    if (oldest == nullptr) return;  // only `keep` is left
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
  std::size_t n = 0;
  for (const auto& [tenant, e] : entries_) n += e->index ? 1 : 0;
  return n;
}

}  // namespace parley::rag
