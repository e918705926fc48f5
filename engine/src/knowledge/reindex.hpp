#pragma once

// `parley reindex`: embeds every chunk of a tenant with an embedder (another one,
// or the same one for chunks a former model embedded), in batches, while engines
// keep answering from the vectors the chunks have. The new vectors are staged
// beside the old (store/reindex_repo.hpp); once every chunk has one, a single
// transaction puts them in place and makes the embedder the tenant's, and the
// knowledge version bump makes every engine reload. Documents that complete
// meanwhile are embedded before the switch; a failed batch stops the run with the
// embedder's error and changes nothing the engines use.

#include <cstdint>
#include <functional>
#include <string>

#include "llm/embedder.hpp"

namespace parley::store {
class database;
}

namespace parley::knowledge {

struct reindex_request {
  std::string tenant_id;
  std::string embedder_name;     // what the tenant will be switched to
  std::size_t batch_size = 256;  // chunks read, embedded and staged at a time
};

struct reindex_result {
  std::int64_t embedded = 0;  // chunks embedded now; the others had a vector of the model
};

// Called after every batch with the chunks embedded so far and how many there are to
// embed (which grows when documents complete meanwhile).
using reindex_progress = std::function<void(std::int64_t embedded, std::int64_t total)>;

reindex_result reindex(store::database& db, const reindex_request& request, llm::embedder& embedder,
                       const reindex_progress& progress);

}  // namespace parley::knowledge
