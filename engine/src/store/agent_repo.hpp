#pragma once

// Agents and their personas (per-tenant tables: call inside a tenant transaction).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace parley::store {

class transaction;

// What an operator set in agents.model_settings and retrieval_settings (JSON
// objects). Values of the wrong type or out of range are left out when read, so the
// configured defaults apply.
struct agent_overrides {
  std::optional<std::string> provider;  // a configured provider's name
  std::optional<std::string> model;
  std::optional<double> temperature;       // 0..2
  std::optional<std::int64_t> max_tokens;  // >= 1
  std::optional<std::size_t> top_k;        // 1..max_agent_top_k
  std::optional<double> min_score;         // -1..1
};

inline constexpr std::size_t max_agent_top_k = 50;

struct agent {
  std::string id;
  std::string code;  // the OpenAI "model" clients send
  std::string name;
  std::optional<std::string> persona_id;
  std::optional<std::string> persona_prompt;  // the persona's system prompt
  std::optional<std::string> greeting;
  std::string refusal_text;
  agent_overrides overrides;  // model_settings, retrieval_settings
  bool is_enabled = true;
  std::int64_t created_unix = 0;
};

struct new_agent {
  std::string code;
  std::string name;
  std::optional<std::string> persona_prompt;  // creates or updates persona `code`
  std::optional<std::string> greeting;        // the widget's first line
};

// What an update changes: an empty optional leaves it alone; for the nullable ones a
// present nullopt clears it (an override cleared: the configured default applies).
struct agent_patch {
  std::optional<std::string> name;
  std::optional<std::optional<std::string>> greeting;
  std::optional<std::string> refusal_text;
  std::optional<bool> is_enabled;
  std::optional<std::optional<std::string>> persona_id;
  std::optional<std::optional<std::string>> provider;
  std::optional<std::optional<std::string>> model;
  std::optional<std::optional<double>> temperature;
  std::optional<std::optional<std::int64_t>> max_tokens;
  std::optional<std::optional<std::int64_t>> top_k;
  std::optional<std::optional<double>> min_score;

  bool empty() const noexcept {
    return !name && !greeting && !refusal_text && !is_enabled && !persona_id && !provider &&
           !model && !temperature && !max_tokens && !top_k && !min_score;
  }
};

// A persona: a system prompt agents share.
struct persona {
  std::string id;
  std::string code;
  std::string name;
  std::string system_prompt;
};

// [a-z0-9][a-z0-9._-]{0,63}: a valid OpenAI model name, safe everywhere.
bool is_valid_agent_code(std::string_view code) noexcept;

// Throws db_error (is_unique_violation() when the code is taken).
agent create_agent(transaction& tx, std::string_view tenant_id, const new_agent& a);
std::optional<agent> find_agent(transaction& tx, std::string_view code);
std::vector<agent> list_agents(transaction& tx, bool enabled_only);

// The enabled agent created first (the tenant's default widget agent).
std::optional<agent> first_enabled_agent(transaction& tx);

// Applies `patch` (not empty) to the agent `code`; nothing if there is none.
std::optional<agent> update_agent(transaction& tx, std::string_view code, const agent_patch& patch);

// Creates persona `code` or replaces its name and prompt.
persona set_persona(transaction& tx, std::string_view tenant_id, std::string_view code,
                    std::string_view name, std::string_view system_prompt);
std::optional<persona> find_persona(transaction& tx, std::string_view code);
std::vector<persona> list_personas(transaction& tx);

}  // namespace parley::store
