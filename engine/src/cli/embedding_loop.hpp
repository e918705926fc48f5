#pragma once

// The embedders the configuration names (llm/embedders.hpp), for serve and for the
// commands that embed (ingest, reindex, eval). Remote embedders' requests run on an
// Asio loop: serve runs its own; a command gets a thread running one here, while
// its main thread waits for the vectors.

#include <utility>  // before Asio under g++ 12 / Boost 1.74

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <memory>
#include <string_view>
#include <thread>

#include "config/config.hpp"
#include "llm/embedders.hpp"

namespace parley::cli {

namespace asio = boost::asio;

// Every embedder of `cfg`, its requests run by `io`.
std::unique_ptr<llm::embedders> make_embedders(asio::io_context& io, const config::config& cfg,
                                               const config::secrets& secrets);

class embedding_loop {
 public:
  // Reads the embedders' secrets (only when remote embedders are configured).
  embedding_loop(const config::config& cfg, const config::environment& env);
  ~embedding_loop();
  embedding_loop(const embedding_loop&) = delete;
  embedding_loop& operator=(const embedding_loop&) = delete;

  llm::embedders& embedders() noexcept { return *embedders_; }

  // The embedder named; command_error "embedder_not_found" when none is.
  llm::embedder& require(std::string_view name);

 private:
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::unique_ptr<llm::embedders> embedders_;
  std::thread thread_;
};

}  // namespace parley::cli
