#pragma once

// The one way documents enter a tenant's knowledge, for the API and for
// `parley ingest` alike:
//
//   read the body and inspect the upload (off the loop: parsing a multipart body,
//   hashing and sniffing take milliseconds for a large file)
//   -> register it in one tenant transaction (refusals store nothing; identical
//      content answers the existing document)
//   -> process it on the extraction thread (serve) or at once (the CLI).

#include <utility>  // before Asio under g++ 12 / Boost 1.74

#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>

#include "knowledge/extraction_queue.hpp"
#include "knowledge/processing.hpp"
#include "knowledge/registration.hpp"
#include "knowledge/upload.hpp"

namespace parley::store {
class database;
}

namespace parley::knowledge {

namespace asio = boost::asio;

struct service_settings {
  std::size_t max_document_bytes = 16 * 1024 * 1024;
  std::chrono::seconds processing_timeout{900};
  std::size_t max_pending_bytes = 256 * 1024 * 1024;
  chunking chunks;
};

class document_service {
 public:
  // Told, on the extraction thread, of each tenant whose knowledge a processed
  // document changed: this engine need not wait for its own notification.
  using change_listener = std::function<void(const std::string& tenant_id)>;

  // `embedders` must outlive the service; their loop must run while it processes.
  document_service(store::database& db, service_settings s, llm::embedders& embedders,
                   change_listener on_change = {});

  // Reads the upload with `read` (which throws upload_error for a malformed body),
  // inspects and registers it, and queues it for processing unless it is a
  // duplicate. Throws upload_error; nothing is stored then.
  using upload_reader = std::function<upload()>;
  asio::awaitable<registration> submit(std::string tenant_id, upload_reader read);

  // For `parley ingest`: the same steps, processed before it returns, on this thread.
  std::pair<registration, processing_result> ingest_now(const std::string& tenant_id,
                                                        const upload& u);

  const service_settings& settings() const noexcept { return settings_; }

 private:
  store::database& db_;
  service_settings settings_;
  processor processor_;
  change_listener on_change_;
  asio::thread_pool intake_{1};
  extraction_queue queue_;
};

}  // namespace parley::knowledge
