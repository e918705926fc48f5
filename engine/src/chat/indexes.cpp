#include "chat/indexes.hpp"

#include <algorithm>
#include <chrono>
#include <exception>
#include <thread>

#include "base/offload.hpp"
#include "obs/log.hpp"

namespace parley::chat {

namespace {

// Builds are CPU work: as many at once as there are cores, so that one tenant's
// large build does not queue every other cold tenant behind it.
unsigned build_threads() { return std::max(2u, std::thread::hardware_concurrency()); }

// Above this many chunks an exact search (one dot product per chunk, and BM25) costs
// a loop thread more than the two thread hops of offloading it (about 0.3 ms at
// 384 dimensions on this machine's cores).
constexpr std::size_t inline_search_chunks = 2000;

}  // namespace

indexes::indexes(std::size_t budget_bytes, corpus_reader read)
    : cache_(budget_bytes),
      read_(std::move(read)),
      builders_(build_threads()),
      searchers_(build_threads()) {}

indexes::~indexes() {
  searchers_.join();
  builders_.join();
}

asio::awaitable<std::vector<rag::retrieved_passage>> indexes::search(
    std::shared_ptr<const rag::knowledge_index> index, std::string agent_id, std::string query,
    std::vector<float> query_vector, rag::retrieval_options options) {
  if (index->chunk_count() <= inline_search_chunks) {
    co_return index->search(agent_id, query, query_vector, options);
  }
  auto job = [index = std::move(index), agent_id = std::move(agent_id), query = std::move(query),
              query_vector = std::move(query_vector),
              options] { return index->search(agent_id, query, query_vector, options); };
  co_return co_await base::offload(searchers_, std::move(job));
}

asio::awaitable<indexes::index_ptr> indexes::get(std::string tenant_id, std::int64_t version) {
  if (auto hit = cache_.find(tenant_id, version)) co_return hit;
  const auto key = std::make_pair(tenant_id, version);
  std::shared_ptr<pending> waiting;
  std::shared_ptr<pending> mine;
  {
    std::lock_guard lock(mutex_);
    auto& slot = building_[key];
    if (slot) {
      waiting = slot;
    } else {
      slot = mine = std::make_shared<pending>();
    }
  }
  if (waiting) co_return co_await waiting->wait();

  index_ptr index = cache_.find(tenant_id, version);  // built just before we registered
  std::exception_ptr error;
  if (!index) {
    try {
      index = co_await build(tenant_id, version);
    } catch (...) {
      error = std::current_exception();
    }
  }
  {
    // The cache has it now: later requests find it there, not here.
    std::lock_guard lock(mutex_);
    building_.erase(key);
  }
  if (error) {
    mine->set_exception(error);
    std::rethrow_exception(error);
  }
  mine->set_value(index);
  co_return index;
}

asio::awaitable<indexes::index_ptr> indexes::build(const std::string& tenant_id,
                                                   std::int64_t version) {
  const auto started = std::chrono::steady_clock::now();
  auto source = co_await read_(tenant_id);
  obs::info("index_build", {{"tenant_id", tenant_id}, {"knowledge_version", version}});
  auto make = [source = std::move(source)] {
    auto in = source();
    return std::make_shared<const rag::knowledge_index>(std::move(in.corpus), std::move(in.space),
                                                        in.vectors);
  };
  index_ptr index = co_await base::offload(builders_, std::move(make));
  const std::chrono::duration<double, std::milli> took = std::chrono::steady_clock::now() - started;
  obs::info("index_load", {{"tenant_id", tenant_id},
                           {"knowledge_version", version},
                           {"chunks", index->chunk_count()},
                           {"embedded", index->embedded_count()},
                           {"embedding_model", index->space().model},
                           {"hnsw", index->uses_hnsw()},
                           {"ms", static_cast<std::int64_t>(took.count())}});
  if (const auto stale = index->chunk_count() - index->embedded_count(); stale > 0) {
    // Their vectors are not compared with queries: `parley reindex` embeds them anew.
    obs::warn("index_chunks_of_another_model",
              {{"tenant_id", tenant_id}, {"chunks", stale}, {"embedder", index->space().embedder}});
  }
  cache_.put(tenant_id, version, index);
  co_return index;
}

}  // namespace parley::chat
