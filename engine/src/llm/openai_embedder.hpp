#pragma once

// Any OpenAI-compatible POST {base_url}/embeddings (OpenAI, Ollama, llama.cpp
// server, vLLM, TEI) over libcurl's multi interface on the engine's loop
// (llm/curl_multi.hpp): a request costs a socket, never a thread.
//
// Texts go up in batches of `batch_size`, one request after another, each bounded
// by `timeout`. The answer must hold exactly one vector of `dimensions` floats per
// text; anything else (an HTTP error, a timeout, a malformed or short answer) is an
// embedding_error, never a partial result. Vectors are L2-normalised here, since
// not every server does, so that a dot product is a cosine.

#include <chrono>
#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "llm/curl_multi.hpp"
#include "llm/embedder.hpp"

namespace parley::llm {

struct openai_embedder_settings {
  std::string base_url;  // e.g. "http://127.0.0.1:11434/v1"
  std::string model;
  std::size_t dimensions = 0;
  bool send_dimensions = false;  // ask the server for `dimensions` (text-embedding-3-*)
  std::string api_key;           // sent as a bearer token, never logged; may be empty
  std::string ca_file;           // CAs for an https base_url; empty: the system's
  std::size_t batch_size = 64;
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds timeout{30000};  // one whole request
  std::string query_prefix;
  std::string document_prefix;
};

// The JSON body of one request for `inputs` (exposed for tests).
std::string openai_embeddings_body(const openai_embedder_settings& s,
                                   std::span<const std::string> inputs);

// The vectors of one answer in input order (by each item's "index"), normalised.
// Throws embedding_error unless it holds exactly `count` vectors of `dimensions`.
embedding_vectors parse_openai_embeddings(std::string_view body, std::size_t count,
                                          std::size_t dimensions);

class openai_embedder final : public embedder {
 public:
  // `multi` must outlive the embedder and every request it started.
  openai_embedder(curl_multi& multi, openai_embedder_settings settings);

  const std::string& model() const noexcept override { return settings_->model; }
  std::size_t dimensions() const noexcept override { return settings_->dimensions; }

  asio::awaitable<embedding_vectors> embed(std::vector<std::string> texts,
                                           embedding_purpose purpose) override;
  embedding_vectors embed_blocking(std::vector<std::string> texts,
                                   embedding_purpose purpose) override;

  // One request's outcome: its vectors, or the error it failed with.
  using batch_done = std::function<void(std::exception_ptr, embedding_vectors)>;

 private:
  std::vector<std::vector<std::string>> batches(std::vector<std::string> texts,
                                                embedding_purpose purpose) const;
  // Starts one request on the multi's strand; `done` runs there when it ends.
  void start(std::vector<std::string> inputs, batch_done done);

  curl_multi& multi_;
  // Shared with requests in flight: a request may outlive the embedder at shutdown.
  std::shared_ptr<const openai_embedder_settings> settings_;
};

}  // namespace parley::llm
