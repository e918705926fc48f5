#pragma once

// What one generation call produced, filled in as its events arrive, and the
// llm_requests row it becomes. Usage the provider did not report (a stream cut
// short, a cancel) is estimated from the prompt and what arrived, and marked so:
// no spend goes unrecorded (SPEC 4.3).

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "chat/turn.hpp"
#include "config/config.hpp"
#include "llm/provider.hpp"
#include "store/chat_repo.hpp"

namespace parley::chat {

class call_record {
 public:
  using clock = std::chrono::steady_clock;

  // Only the prompt's estimated size is kept, not the prompt: a long stream holds
  // nothing it does not need.
  explicit call_record(const std::vector<llm::message>& prompt)
      : prompt_tokens_(llm::estimate_prompt_tokens(prompt)) {}

  void add(const llm::token_event& token);
  // The generation's last event.
  void conclude(const llm::event& last);
  // The client went away before the end.
  void cancel();

  bool ended() const noexcept { return ended_; }
  call_status status() const noexcept { return status_; }
  const std::optional<llm::error_event>& failure() const noexcept { return failure_; }
  const std::string& content() const noexcept { return content_; }
  const std::string& finish_reason() const noexcept { return finish_reason_; }
  const llm::usage& usage() const noexcept { return usage_; }
  bool usage_estimated() const noexcept { return usage_estimated_; }
  std::optional<std::int64_t> ttft_ms() const noexcept { return ttft_ms_; }
  std::int64_t latency_ms() const noexcept { return latency_ms_; }

  // The llm_requests row, priced when `prices` knows the model. `error` is what the
  // tenant was told, never the provider's own words.
  store::llm_request_row row(const std::string& session_id, std::string_view provider,
                             const std::string& model,
                             const std::map<std::string, config::price>& prices,
                             std::optional<std::string> error) const;

 private:
  void estimate_usage();
  void stop_clock();

  std::int64_t prompt_tokens_ = 0;  // estimated
  clock::time_point started_ = clock::now();
  std::string content_;
  call_status status_ = call_status::ok;
  std::optional<llm::error_event> failure_;
  std::string finish_reason_ = "stop";
  llm::usage usage_;
  bool usage_estimated_ = false;
  std::optional<std::int64_t> ttft_ms_;
  std::int64_t latency_ms_ = 0;
  bool ended_ = false;
};

}  // namespace parley::chat
