#include "chat/call_record.hpp"

#include <variant>

namespace parley::chat {

namespace {

std::int64_t ms_since(call_record::clock::time_point from) {
  using namespace std::chrono;
  return duration_cast<milliseconds>(call_record::clock::now() - from).count();
}

}  // namespace

std::string_view to_string(call_status s) noexcept {
  switch (s) {
    case call_status::ok: return "ok";
    case call_status::error: return "error";
    case call_status::cancelled: return "cancelled";
  }
  return "error";
}

void call_record::add(const llm::token_event& token) {
  if (!ttft_ms_) ttft_ms_ = ms_since(started_);
  content_ += token.text;
}

void call_record::conclude(const llm::event& last) {
  if (const auto* done = std::get_if<llm::done_event>(&last)) {
    finish_reason_ = done->finish_reason;
    if (done->usage) {
      usage_ = *done->usage;
    } else {
      estimate_usage();
    }
  } else {
    const auto& failure = std::get<llm::error_event>(last);
    status_ = call_status::error;
    failure_ = failure;
    // A request that never reached the provider cannot have been billed.
    if (failure.reached_provider) estimate_usage();
  }
  stop_clock();
}

void call_record::cancel() {
  status_ = call_status::cancelled;
  failure_.reset();
  estimate_usage();
  stop_clock();
}

void call_record::estimate_usage() {
  usage_ = {prompt_tokens_, llm::estimate_tokens(content_)};
  usage_estimated_ = true;
}

void call_record::stop_clock() {
  latency_ms_ = ms_since(started_);
  ended_ = true;
}

store::llm_request_row call_record::row(const std::string& session_id, std::string_view provider,
                                        const std::string& model,
                                        const std::map<std::string, config::price>& prices,
                                        std::optional<std::string> error) const {
  store::llm_request_row r;
  r.session_id = session_id;
  r.provider = std::string(provider);
  r.model = model;
  r.prompt_tokens = usage_.prompt_tokens;
  r.completion_tokens = usage_.completion_tokens;
  r.usage_estimated = usage_estimated_;
  if (const auto price = prices.find(model); price != prices.end()) {
    r.unit_cost_prompt = price->second.prompt_per_1k;
    r.unit_cost_completion = price->second.completion_per_1k;
    r.computed_cost =
        config::priced_cost(prices, model, usage_.prompt_tokens, usage_.completion_tokens);
  }
  r.latency_ms = latency_ms_;
  r.ttft_ms = ttft_ms_;
  r.status = std::string(to_string(status_));
  r.error = std::move(error);
  return r;
}

}  // namespace parley::chat
