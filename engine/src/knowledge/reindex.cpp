#include "knowledge/reindex.hpp"

#include <algorithm>
#include <stdexcept>

#include "knowledge/processing.hpp"
#include "store/db.hpp"
#include "store/reindex_repo.hpp"

namespace parley::knowledge {

namespace {

// Documents completing while the stragglers are embedded delay the switch; a tenant
// that never stops uploading for this many rounds is asked to try again.
constexpr int max_switch_attempts = 8;

class run {
  // Declared first: the functions below deduce their types from it.
  template <class F>
  auto in_tenant(F&& work) {
    return db_.with_tenant(request_.tenant_id, std::forward<F>(work));
  }

 public:
  run(store::database& db, const reindex_request& request, llm::embedder& embedder,
      const reindex_progress& progress)
      : db_(db), request_(request), embedder_(embedder), progress_(progress) {}

  reindex_result go() {
    total_ = in_tenant([&](store::transaction& tx) {
      return store::count_chunks_to_embed(tx, embedder_.model());
    });
    embed_all();
    for (int attempt = 1;; ++attempt) {
      const auto left = in_tenant([&](store::transaction& tx) {
        return store::switch_embedder(tx, request_.tenant_id, request_.embedder_name,
                                      embedder_.model());
      });
      if (left == 0) break;
      if (attempt == max_switch_attempts) {
        throw std::runtime_error(
            "documents kept arriving while the tenant was reindexed; run "
            "the command again");
      }
      total_ = std::max(total_, embedded_ + left);
      embed_all();
    }
    return {embedded_};
  }

 private:
  // Every chunk without a vector of the model, by id, a batch at a time.
  void embed_all() {
    std::string after;
    for (;;) {
      const auto batch = in_tenant([&](store::transaction& tx) {
        return store::chunks_to_embed(tx, embedder_.model(), after, request_.batch_size);
      });
      if (batch.empty()) return;
      after = batch.back().id;
      std::vector<std::string> ids;
      std::vector<std::string> texts;
      for (const auto& c : batch) {
        ids.push_back(c.id);
        texts.push_back(embedding_text(c.heading, c.content));
      }
      const auto vectors =
          embedder_.embed_blocking(std::move(texts), llm::embedding_purpose::document);
      in_tenant([&](store::transaction& tx) {
        store::stage_embeddings(tx, embedder_.model(), ids, vectors);
        return true;
      });
      embedded_ += static_cast<std::int64_t>(batch.size());
      total_ = std::max(total_, embedded_);
      progress_(embedded_, total_);
    }
  }

  store::database& db_;
  const reindex_request& request_;
  llm::embedder& embedder_;
  const reindex_progress& progress_;
  std::int64_t embedded_ = 0;
  std::int64_t total_ = 0;
};

}  // namespace

reindex_result reindex(store::database& db, const reindex_request& request, llm::embedder& embedder,
                       const reindex_progress& progress) {
  return run(db, request, embedder, progress).go();
}

}  // namespace parley::knowledge
