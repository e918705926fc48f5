#pragma once

// The documents waiting to be processed, and the one thread that processes them
// (knowledge/processing.hpp: PDF extraction is not safe for concurrent use, and one
// thread keeps ingestion from taking the cores that answer chats).
//
// Fair between tenants: each tenant has its own line, and the thread takes one
// document from each tenant in turn, so a tenant uploading a thousand files delays
// another tenant's one file by at most one document per waiting tenant. The bytes
// waiting are bounded: past the bound, push() refuses and the upload is answered
// 503 before anything is stored.

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "knowledge/processing.hpp"

namespace parley::knowledge {

class extraction_queue {
 public:
  using worker = std::function<void(const processing_job&)>;

  extraction_queue(worker work, std::size_t max_pending_bytes);
  ~extraction_queue();  // finishes the document in hand; the others stay 'processing'
  extraction_queue(const extraction_queue&) = delete;
  extraction_queue& operator=(const extraction_queue&) = delete;

  // Whether a document of `bytes` would be taken now.
  bool has_room(std::size_t bytes) const;

  // Queues the job, even past the bound (the caller asked has_room() before it
  // registered the document, and a registered document must be processed).
  void push(processing_job job);

  std::size_t pending_bytes() const;

 private:
  void run(const std::stop_token& stop);
  bool next(processing_job& job, const std::stop_token& stop);

  worker work_;
  const std::size_t max_pending_bytes_;
  mutable std::mutex mutex_;
  std::condition_variable_any ready_;
  std::map<std::string, std::deque<processing_job>> lines_;  // by tenant
  std::string last_tenant_;  // served last: the turn passes to the next tenant after it
  std::size_t pending_bytes_ = 0;
  std::jthread thread_;
};

}  // namespace parley::knowledge
