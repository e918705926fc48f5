#pragma once

// A tenant's knowledge index for a query, built without holding the database.
//
// On a miss (no index at the version the caller read), one request reads the
// corpus in a short transaction of its own and builds the index on a build thread;
// every other request for the same tenant and version waits for that build holding
// no database connection and no thread (base::one_shot). A cold tenant therefore
// costs the pool one connection while its corpus is read, never while it is
// indexed, and other tenants' lookups and writes go on meanwhile.

#include <utility>  // before Asio under g++ 12 / Boost 1.74

#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/one_shot.hpp"
#include "rag/index_cache.hpp"
#include "rag/knowledge_index.hpp"

namespace parley::chat {

namespace asio = boost::asio;

class indexes {
 public:
  // A tenant's corpus, the embedding space of its embedder and the kind of vector
  // index its settings ask for.
  struct indexable {
    rag::corpus corpus;
    rag::embedding_space space;
    rag::vector_index_options vectors;
  };
  // Turns what a reader read into a corpus; runs on a build thread.
  using corpus_source = std::function<indexable()>;
  // Reads a tenant's whole corpus in a transaction of its own, and returns it
  // still undecoded, so that decoding does not keep the transaction open.
  using corpus_reader = std::function<asio::awaitable<corpus_source>(const std::string& tenant_id)>;

  indexes(std::size_t budget_bytes, corpus_reader read);
  ~indexes();
  indexes(const indexes&) = delete;
  indexes& operator=(const indexes&) = delete;

  // The tenant's index at `version`, from the cache or built now (one build per
  // tenant and version, whoever asks). A failed read or build is thrown to every
  // request that waited for it; the next request tries again.
  asio::awaitable<std::shared_ptr<const rag::knowledge_index>> get(std::string tenant_id,
                                                                   std::int64_t version);

  // The agent's best passages for `query` (embedded as `query_vector` by the index's
  // embedder): searched on the calling loop thread when
  // the index is small enough to answer in well under a millisecond, on a search
  // thread otherwise, so that a large tenant's exact search never stalls a loop.
  asio::awaitable<std::vector<rag::retrieved_passage>> search(
      std::shared_ptr<const rag::knowledge_index> index, std::string agent_id, std::string query,
      std::vector<float> query_vector, rag::retrieval_options options);

  const rag::index_cache& cache() const noexcept { return cache_; }

 private:
  using index_ptr = std::shared_ptr<const rag::knowledge_index>;
  using pending = base::one_shot<index_ptr>;

  asio::awaitable<index_ptr> build(const std::string& tenant_id, std::int64_t version);

  rag::index_cache cache_;
  corpus_reader read_;
  asio::thread_pool builders_;
  asio::thread_pool searchers_;
  std::mutex mutex_;  // guards building_
  std::map<std::pair<std::string, std::int64_t>, std::shared_ptr<pending>> building_;
};

}  // namespace parley::chat
