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
    e = slot.get();  // entries are never erased, so the pointer stays valid
    if (e->version == version) return e->index;
  }
  std::lock_guard build(e->build_mutex);
  {
    std::lock_guard lock(mutex_);
    if (e->version == version) return e->index;  // built while we waited
  }
  auto index = std::make_shared<const knowledge_index>(load(), embedder_);
  std::lock_guard lock(mutex_);
  e->version = version;
  e->index = index;
  return index;
}

}  // namespace parley::rag
