#include "knowledge/extraction_queue.hpp"

#include <exception>

#include "obs/log.hpp"

namespace parley::knowledge {

extraction_queue::extraction_queue(worker work, std::size_t max_pending_bytes)
    : work_(std::move(work)),
      max_pending_bytes_(max_pending_bytes),
      thread_([this](const std::stop_token& stop) { run(stop); }) {}

extraction_queue::~extraction_queue() {
  thread_.request_stop();
  ready_.notify_all();
}

bool extraction_queue::has_room(std::size_t bytes) const {
  std::lock_guard lock(mutex_);
  return pending_bytes_ + bytes <= max_pending_bytes_;
}

std::size_t extraction_queue::pending_bytes() const {
  std::lock_guard lock(mutex_);
  return pending_bytes_;
}

void extraction_queue::push(processing_job job) {
  {
    std::lock_guard lock(mutex_);
    pending_bytes_ += job.bytes.size();
    lines_[job.tenant_id].push_back(std::move(job));
  }
  ready_.notify_one();
}

// Round robin: the first tenant after the one served last, in tenant id order.
bool extraction_queue::next(processing_job& job, const std::stop_token& stop) {
  std::unique_lock lock(mutex_);
  if (!ready_.wait(lock, stop, [this] { return !lines_.empty(); })) return false;
  auto line = lines_.upper_bound(last_tenant_);
  if (line == lines_.end()) line = lines_.begin();
  job = std::move(line->second.front());
  line->second.pop_front();
  last_tenant_ = line->first;
  if (line->second.empty()) lines_.erase(line);
  return true;
}

void extraction_queue::run(const std::stop_token& stop) {
  processing_job job;
  while (next(job, stop)) {
    try {
      work_(job);
    } catch (const std::exception& e) {
      // The database failed: the document stays 'processing' until it reads as lost.
      obs::error(
          "document_processing_failed",
          {{"tenant_id", job.tenant_id}, {"document_id", job.document_id}, {"error", e.what()}});
    }
    std::lock_guard lock(mutex_);
    pending_bytes_ -= job.bytes.size();
  }
}

}  // namespace parley::knowledge
