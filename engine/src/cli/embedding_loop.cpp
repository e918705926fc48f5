#include "cli/embedding_loop.hpp"

#include "cli/output.hpp"

namespace parley::cli {

std::unique_ptr<llm::embedders> make_embedders(asio::io_context& io, const config::config& cfg,
                                               const config::secrets& secrets) {
  auto out = std::make_unique<llm::embedders>(io, cfg.retrieval.dimensions, cfg.retrieval.embedder);
  for (const auto& [name, e] : cfg.retrieval.embedders) {
    const auto key = secrets.embedder_api_keys.find(name);
    out->add(name, {e.base_url, e.model, e.dimensions, e.send_dimensions,
                    key != secrets.embedder_api_keys.end() ? key->second : std::string(), e.ca_file,
                    e.batch_size, std::chrono::milliseconds(e.connect_timeout_ms),
                    std::chrono::milliseconds(e.timeout_ms), e.query_prefix, e.document_prefix});
  }
  return out;
}

embedding_loop::embedding_loop(const config::config& cfg, const config::environment& env)
    : work_(asio::make_work_guard(io_)),
      embedders_(make_embedders(
          io_, cfg,
          cfg.retrieval.embedders.empty() ? config::secrets{} : config::load_secrets(cfg, env))),
      thread_([this] { io_.run(); }) {}

embedding_loop::~embedding_loop() {
  work_.reset();
  io_.stop();
  thread_.join();
}

llm::embedder& embedding_loop::require(std::string_view name) {
  if (!embedders_->has(name)) {
    throw command_error("embedder_not_found", "no embedder named '" + std::string(name) +
                                                  "': hashing or a name under retrieval.embedders");
  }
  return embedders_->get(name);
}

}  // namespace parley::cli
