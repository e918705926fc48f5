#pragma once

// The engine's metrics (GET /metrics, Prometheus text format), recorded where things
// happen and kept for the life of the process, like the log.
//
// Labels stay bounded: a route is the router's pattern ("/v1/documents/{id}"),
// never the path; a status, method, provider or failure kind is one of a few; the
// tenant label (on calls, tokens, cost and answer latencies, so that an operator
// can see who spends) holds at most max_tenant_series tenants (max_tenant_histograms
// for histograms), and every tenant past them is counted as "_other".

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace parley::obs::metrics {

inline constexpr std::size_t max_tenant_series = 1000;
inline constexpr std::size_t max_tenant_histograms = 100;

// One request answered by the engine's HTTP server.
void http_request(std::string_view route, std::string_view method, unsigned status, double seconds);

// One LLM call, as stored in llm_requests.
struct llm_call {
  std::string_view tenant_id;
  std::string_view provider;
  std::string_view status;             // ok | error | cancelled
  std::optional<double> ttft_seconds;  // none before a first token
  double seconds = 0;
  std::int64_t prompt_tokens = 0;
  std::int64_t completion_tokens = 0;
  double cost = 0;
};
void call(const llm_call& c);

// A call that failed: unreachable | timeout | refused | broken.
void upstream_error(std::string_view provider, std::string_view kind);

// How a chat turn ended: answered (an LLM was called), refused (nothing relevant
// known) or over_budget.
void turn(std::string_view tenant_id, std::string_view outcome);

void retrieval(double seconds);

// Time a database call waited for a pooled connection.
void db_pool_wait(double seconds);

// Writes committed together in one transaction (store::commit_group).
void db_commit_group(std::size_t writes);

// Every family recorded here, in the text format.
std::string exposition();

}  // namespace parley::obs::metrics
