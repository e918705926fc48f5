#pragma once

// What tenants used (usage_daily, migration 0006): counted in the write that stores
// each llm_requests row, so the two always agree, and for turns answered without a
// call; read back per day, agent or model for the admin API and `parley usage`.
// Per-tenant table: run in the tenant's transaction or write batch.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace parley::store {

class transaction;
class write_batch;

struct counted_call {
  std::string agent_id;
  std::string model;
  std::int64_t prompt_tokens = 0;
  std::int64_t completion_tokens = 0;
  double cost = 0;     // 0 when the model is not priced
  std::string status;  // ok | error | cancelled
};

// Today's (UTC) line of the call's agent and model; the same day as the llm_requests
// row written in the same transaction.
void count_call(write_batch& batch, std::string_view tenant_id, const counted_call& call);

// A turn answered without a call.
enum class uncalled : unsigned char {
  refusal,      // nothing relevant known: the agent's refusal text
  over_budget,  // insufficient_quota
};
void count_uncalled(write_batch& batch, std::string_view tenant_id, std::string_view agent_id,
                    uncalled why);

// By tenant reads across tenants: only the reporting role may (migration 0007).
enum class usage_grouping : unsigned char { day, agent, model, tenant };

struct usage_line {
  std::string key;  // the day (YYYY-MM-DD), agent's code, model ('' for no call) or tenant slug
  std::int64_t requests = 0;
  std::int64_t prompt_tokens = 0;
  std::int64_t completion_tokens = 0;
  double cost = 0;
  std::int64_t errors = 0;
  std::int64_t cancelled = 0;
  std::int64_t refusals = 0;
  std::int64_t budget_refusals = 0;

  usage_line& operator+=(const usage_line& o) noexcept {
    requests += o.requests;
    prompt_tokens += o.prompt_tokens;
    completion_tokens += o.completion_tokens;
    cost += o.cost;
    errors += o.errors;
    cancelled += o.cancelled;
    refusals += o.refusals;
    budget_refusals += o.budget_refusals;
    return *this;
  }
};

// The usage the transaction may read (its tenant's; every tenant's for the
// reporting role) from `from` to `to` (UTC days, both included), one line per day,
// agent, model or tenant, in order.
std::vector<usage_line> read_usage(transaction& tx, std::string_view from, std::string_view to,
                                   usage_grouping by);

}  // namespace parley::store
