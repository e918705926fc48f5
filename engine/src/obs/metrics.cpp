#include "obs/metrics.hpp"

#include "obs/prometheus.hpp"

namespace parley::obs::metrics {

namespace {

using prometheus::counter_family;
using prometheus::histogram_family;

constexpr std::size_t unbounded = static_cast<std::size_t>(-1);  // labels bounded by design

const std::vector<double> answer_buckets{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                         1,     2.5,  5,     10,   30,  60,   120};
const std::vector<double> fast_buckets{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                       0.01,   0.025,   0.05,   0.1,   0.25,   1};

struct families {
  counter_family requests{"parley_http_requests_total",
                          "Requests answered by the engine, by route pattern, method and status.",
                          {"route", "method", "status"},
                          unbounded};
  histogram_family request_seconds{"parley_http_request_duration_seconds",
                                   "Time from a request's arrival to its answer's end.",
                                   {"route"},
                                   answer_buckets,
                                   unbounded};
  counter_family calls{"parley_llm_calls_total",
                       "LLM calls, by tenant, provider and status.",
                       {"tenant", "provider", "status"},
                       max_tenant_series};
  counter_family tokens{"parley_llm_tokens_total",
                        "LLM tokens, by tenant and kind.",
                        {"tenant", "kind"},
                        max_tenant_series};
  counter_family cost{"parley_llm_cost_total",
                      "LLM cost by tenant, in the currency of llm.prices.",
                      {"tenant"},
                      max_tenant_series};
  histogram_family ttft{"parley_llm_time_to_first_token_seconds",
                        "Time from a question's arrival to its answer's first token.",
                        {"tenant"},
                        answer_buckets,
                        max_tenant_histograms};
  histogram_family call_seconds{"parley_llm_call_duration_seconds",
                                "Time an LLM call took, to its last token.",
                                {"tenant"},
                                answer_buckets,
                                max_tenant_histograms};
  counter_family upstream_errors{"parley_llm_upstream_errors_total",
                                 "Failed LLM calls, by provider and kind.",
                                 {"provider", "kind"},
                                 unbounded};
  counter_family turns{"parley_chat_turns_total",
                       "Chat turns, by tenant and outcome (answered, refused, over_budget).",
                       {"tenant", "outcome"},
                       max_tenant_series};
  histogram_family retrieval{"parley_retrieval_duration_seconds",
                             "Time to embed a question and search the knowledge index.",
                             {},
                             fast_buckets,
                             unbounded};
  histogram_family db_wait{"parley_db_pool_wait_seconds",
                           "Time a database call waited for a pooled connection.",
                           {},
                           fast_buckets,
                           unbounded};
  histogram_family commit_group{"parley_db_commit_group_writes",
                                "Writes committed together in one transaction.",
                                {},
                                {1, 2, 4, 8, 16, 32, 64},
                                unbounded};
};

families& all() {
  static families f;
  return f;
}

}  // namespace

void http_request(std::string_view route, std::string_view method, unsigned status,
                  double seconds) {
  auto& f = all();
  f.requests.add({std::string(route), std::string(method), std::to_string(status)});
  f.request_seconds.observe({std::string(route)}, seconds);
}

void call(const llm_call& c) {
  auto& f = all();
  const std::string tenant(c.tenant_id);
  f.calls.add({tenant, std::string(c.provider), std::string(c.status)});
  f.tokens.add({tenant, "prompt"}, static_cast<double>(c.prompt_tokens));
  f.tokens.add({tenant, "completion"}, static_cast<double>(c.completion_tokens));
  f.cost.add({tenant}, c.cost);
  if (c.ttft_seconds) f.ttft.observe({tenant}, *c.ttft_seconds);
  f.call_seconds.observe({tenant}, c.seconds);
}

void upstream_error(std::string_view provider, std::string_view kind) {
  all().upstream_errors.add({std::string(provider), std::string(kind)});
}

void turn(std::string_view tenant_id, std::string_view outcome) {
  all().turns.add({std::string(tenant_id), std::string(outcome)});
}

void retrieval(double seconds) { all().retrieval.observe({}, seconds); }

void db_pool_wait(double seconds) { all().db_wait.observe({}, seconds); }

void db_commit_group(std::size_t writes) {
  all().commit_group.observe({}, static_cast<double>(writes));
}

std::string exposition() {
  auto& f = all();
  std::string out;
  const std::initializer_list<const prometheus::family*> every{
      &f.requests,     &f.request_seconds, &f.calls, &f.tokens,    &f.cost,    &f.ttft,
      &f.call_seconds, &f.upstream_errors, &f.turns, &f.retrieval, &f.db_wait, &f.commit_group};
  for (const auto* family : every) family->write(out);
  return out;
}

}  // namespace parley::obs::metrics
