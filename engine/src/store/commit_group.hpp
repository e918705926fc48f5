#pragma once

// Group commit for writes whose callers only wait for them to be durable (a turn's
// question, answer, llm_requests row and usage): while one transaction is being
// committed, the writes that arrive meanwhile queue up, and the next transaction
// commits all of them at once, each under its own tenant (database::commit_writes).
// Under load a turn then costs PostgreSQL a share of one BEGIN, COMMIT and WAL flush
// instead of its own, and a row every turn touches (a tenant's spend) is locked once
// a transaction instead of once a turn.
//
// Writes go to lanes by tenant, one transaction at a time in each lane. Tenants'
// rows are disjoint, so the transactions of two lanes never wait on each other's
// locks and groups cannot deadlock one another; a write stuck behind another
// transaction's lock holds up its own lane only. A single write is committed at
// once, as before: waiting for company would only add latency when there is none.

#include <utility>  // before Asio under g++ 12 / Boost 1.74

#include <boost/asio/thread_pool.hpp>

#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "store/db.hpp"

namespace parley::store {

// A write waiting for its transaction; `done` is called once, on a DB thread, with
// nothing or the write's failure.
struct pending_write {
  std::string tenant_id;
  write_batch batch;
  std::function<void(std::exception_ptr)> done;
};

class commit_group {
 public:
  // Commits the writes given and calls each one's done.
  using commit_fn = std::function<void(std::vector<pending_write>&)>;

  // At most `max_writes` a transaction: a failed write makes the others of its
  // group commit again without it, which should not redo an unbounded amount.
  commit_group(asio::thread_pool& threads, commit_fn commit, std::size_t max_writes,
               std::size_t lanes);

  void submit(pending_write write);

 private:
  struct lane {
    std::mutex mutex;
    std::vector<pending_write> queue;
    bool committing = false;  // a job of the lane is queued or running on the pool
  };

  // Commits one group of the lane, then queues itself again behind the pool's other
  // jobs while writes wait: a busy lane must not keep a DB thread from them.
  void commit_next(lane& l);

  asio::thread_pool& threads_;
  commit_fn commit_;
  std::size_t max_writes_;
  std::vector<std::unique_ptr<lane>> lanes_;
};

}  // namespace parley::store
