#pragma once

// The engine's configuration: one YAML file, every value overridable by a
// PARLEY__SECTION__KEY environment variable (see conf.examples/parley.yaml).

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "config/key_ring.hpp"

namespace parley::config {

struct server_config {
  std::string socket = "/run/parley/engine.sock";
  unsigned socket_mode = 0660;                    // written in YAML as an octal string, "0660"
  unsigned threads = 2;                           // threads running the one io_context
  std::size_t max_body_bytes = 24 * 1024 * 1024;  // a 16 MiB document as base64 JSON
  std::uint32_t idle_timeout_ms = 75000;          // keep-alive wait for the next request
  std::uint32_t read_timeout_ms = 30000;          // a started request must arrive within this
  std::uint32_t write_timeout_ms = 30000;   // a write making no progress means the client is gone
  std::size_t sse_queue_bytes = 64 * 1024;  // SSE frames buffered before writers wait
};

struct database_config {
  std::string dsn = "host=/var/run/postgresql dbname=parley user=parley_app";
  std::string migrate_dsn = "host=/var/run/postgresql dbname=parley user=parley_owner";
  // `parley usage --all`: a role that reads usage across tenants and nothing else
  // (migration 0007).
  std::string reporting_dsn = "host=/var/run/postgresql dbname=parley user=parley_reporting";
  unsigned pool_size = 8;  // connections, and threads running DB calls
};

struct edge_config {
  std::string secret_file = "/etc/parley/edge.secret";
  std::int64_t context_max_age_ms = 30000;
  std::int64_t context_max_skew_ms = 5000;
  unsigned introspect_cache_ttl_s = 30;  // X-Parley-Cache-Ttl
};

struct widget_config {
  std::string keys_file;           // the key ring; empty: the widget is switched off
  std::int64_t token_ttl_s = 600;  // widget token lifetime, at most 900 (SPEC 3.1)
  std::string issuer = "parley";   // the tokens' "iss"
  // Anonymous bootstraps must not grow `sessions` without bound: a widget session
  // that never received a message is deleted once idle this long (at least
  // token_ttl_s, so no live token outlives its session) ...
  std::int64_t idle_session_ttl_s = 86400;
  // ... by a sweep serve runs this often (and once when it becomes ready).
  std::int64_t session_sweep_interval_s = 300;
  // How long a visitor's conversation can be picked up again after a reload: the
  // resume credential's lifetime (the frame renews it with each visit).
  std::int64_t resume_ttl_s = 86400;
  // An answer whose stream has no subscriber keeps generating this long (a reconnect
  // resumes it), then its upstream call is cancelled.
  std::int64_t stream_grace_s = 10;
  // The events of one answer kept for a reconnect to replay, in KiB; the oldest go
  // first beyond it.
  unsigned stream_buffer_kb = 256;
};

// Reciprocal rank fusion of the vector and the lexical ranking (rag/fusion.hpp).
// Tuned on BEIR SciFact's train split (`parley eval`): the hashing embedder ranks
// far below BM25 there (nDCG@10 0.45 against 0.70), and plain RRF (k 60, equal
// weights) drags BM25 down to 0.59; a small k with the vector ranking at a small
// weight keeps BM25's order and lets the vector ranking break near-ties (0.705).
struct fusion_config {
  double k = 3;
  double lexical_weight = 1.0;
  double vector_weight = 0.15;
};

// Lucene's k1. b is lower than Lucene's 0.75: a tenant's knowledge mixes one-line
// notes with long policy sections, and at 0.75 a short note sharing only a
// question's common words ("new employees get") outranked the section about its
// subject (t/test_widget_browser.py). SciFact train, whose abstracts are alike in
// length, barely moves: nDCG@10 0.7052 at 0.75, 0.7021 at 0.4.
struct bm25_config {
  double k1 = 1.2;
  double b = 0.4;
};

// An OpenAI-compatible /embeddings endpoint (OpenAI, Ollama, llama.cpp server, vLLM,
// TEI), named under retrieval.embedders. Tenants choose one by name with
// `parley reindex --tenant S --embedder NAME`.
struct embedder_config {
  std::string base_url;          // e.g. "http://127.0.0.1:11434/v1"
  std::string model;             // sent upstream and stored with every chunk it embeds
  unsigned dimensions = 0;       // what every vector must have; required
  bool send_dimensions = false;  // ask for `dimensions` (OpenAI's text-embedding-3-*)
  std::string api_key_file;      // secrets only from a file ...
  std::string api_key_env;       // ... or the environment
  std::string ca_file;           // CAs trusted for an https base_url; empty: the system's
  unsigned batch_size = 64;      // texts per request when ingesting
  std::uint32_t connect_timeout_ms = 5000;
  std::uint32_t timeout_ms = 30000;  // one whole request
  std::string query_prefix;          // e.g. "query: " for E5, "search_query: " for nomic
  std::string document_prefix;       // e.g. "passage: ", "search_document: "
  std::optional<double> min_score;   // the relevance gate's cosine for this model
};

// The built-in embedder's name; never a key of retrieval.embedders.
inline constexpr std::string_view hashing_embedder_name = "hashing";

struct retrieval_config {
  std::string embedder = "hashing";  // tenants that chose none: "hashing" or a key of embedders
  std::map<std::string, embedder_config> embedders;
  unsigned dimensions = 384;  // the hashing embedder's
  unsigned chunk_tokens = 500;
  unsigned chunk_overlap = 50;
  unsigned top_k = 5;
  double min_score = 0.2;
  fusion_config fusion;
  bm25_config bm25;
  unsigned index_cache_mb = 1024;  // per-tenant indexes kept in memory, least recently used dropped
};

// The relevance gate's cosine for queries embedded by `embedder`: its own
// min_score, else retrieval.min_score (an agent's setting overrides both).
double min_score_for(const retrieval_config& r, std::string_view embedder);

// Documents uploaded through the API (POST /v1/documents).
struct knowledge_config {
  unsigned max_document_mb = 16;  // one document's bytes; the edge's body limit sits above it
  // A document still 'processing' this long was lost with an engine that stopped: it
  // reads as failed, and uploading it again replaces it.
  std::int64_t processing_timeout_s = 900;
  unsigned max_pending_mb = 256;  // documents waiting for extraction, beyond which uploads get 503
};

struct price {
  double prompt_per_1k = 0;
  double completion_per_1k = 0;
};

// One LLM endpoint agents may name: the operator's default credential for it, and
// the model agents that name none use.
struct provider_config {
  std::string kind;  // extractive | openai | anthropic
  std::string base_url;
  std::string model;
  std::string api_key_file;  // secrets only from a file ...
  std::string api_key_env;   // ... or the environment; neither: only tenants' own keys
  std::string ca_file;       // CAs trusted for an https base_url; empty: the system's
};

struct llm_config {
  // The provider of agents that name none: a name under `providers`, else one of
  // extractive | openai | anthropic configured by the fields below.
  std::string provider = "extractive";
  std::string base_url = "https://api.openai.com/v1";
  std::string model = "gpt-4o-mini";
  std::string api_key_file;  // secrets only from a file ...
  std::string api_key_env;   // ... or the environment
  std::string ca_file;       // CAs trusted for an https base_url; empty: the system's
  // Further providers agents may choose, by name.
  std::map<std::string, provider_config> providers;
  // The master key ring ("kid secret" lines) that seals tenants' own provider
  // credentials; unset: tenants cannot store any.
  std::string master_keys_file;
  std::uint32_t connect_timeout_ms = 5000;
  std::uint32_t first_token_timeout_ms = 30000;
  std::uint32_t idle_timeout_ms = 30000;
  std::uint32_t heartbeat_ms = 15000;
  std::string anthropic_version = "2023-06-01";  // anthropic: the anthropic-version header
  std::map<std::string, price> prices{{"gpt-4o-mini", {0.00015, 0.0006}}};
  // The most a call may write when neither the request nor the agent says: sent
  // upstream for tenants with a budget, whose calls reserve it beforehand, and to
  // anthropic always (it requires one).
  std::int64_t max_tokens = 1024;
};

// Every provider agents may name: llm.providers and the default provider, under its name.
std::map<std::string, provider_config> providers_of(const llm_config& llm);

// The cost of `prompt` and `completion` tokens of `model`, when `prices` knows it.
std::optional<double> priced_cost(const std::map<std::string, price>& prices,
                                  const std::string& model, std::int64_t prompt,
                                  std::int64_t completion);

struct logging_config {
  std::string level = "info";  // debug | info | warn | error
  std::string file;            // empty: stderr
  bool log_prompts = false;
};

struct config {
  server_config server;
  database_config database;
  edge_config edge;
  widget_config widget;
  retrieval_config retrieval;
  knowledge_config knowledge;
  llm_config llm;
  logging_config logging;
};

// Thrown by load(); what() joins every problem, problems() lists them one by one.
class config_error : public std::runtime_error {
 public:
  explicit config_error(std::vector<std::string> problems);
  const std::vector<std::string>& problems() const noexcept { return problems_; }

 private:
  std::vector<std::string> problems_;
};

using environment = std::map<std::string, std::string>;

// The process environment (only PARLEY__* and variables named by *_env keys matter).
environment process_environment();

struct secrets;

// Parses `yaml_text`, applies PARLEY__SECTION__KEY overrides from `env`, checks every
// value and throws config_error listing every problem found. With `secrets_out`, the
// secrets are read too and their problems join the same list.
config parse(const std::string& yaml_text, const environment& env, secrets* secrets_out = nullptr);

// Reads `path` (which must exist) and parses it as above.
config load(const std::string& path, const environment& env, secrets* secrets_out = nullptr);

// Path from --config, else PARLEY_CONFIG, else var/parley.yaml.
std::string resolve_path(const std::string& flag_value, const environment& env);

// Secrets a serving process needs, read from their files / environment variables.
struct secrets {
  std::string edge_secret;                               // raw bytes, trailing whitespace removed
  std::map<std::string, std::string> provider_api_keys;  // operator keys, by provider name
  std::map<std::string, std::string> embedder_api_keys;  // by embedder name, when it has one
  std::vector<ring_key> widget_keys;                     // empty when widget.keys_file is unset
  std::vector<ring_key> master_keys;                     // empty when llm.master_keys_file is unset
};

// Reads the secrets; throws config_error listing every problem (missing file, too short).
secrets load_secrets(const config& cfg, const environment& env);

// Reads the key ring at `path`: its keys, or every problem with it (an unreadable or
// empty file is one), each naming the setting `where` (widget.keys_file,
// llm.master_keys_file) and the path.
key_ring_parse read_key_ring(const std::string& path, std::string_view where);

}  // namespace parley::config
