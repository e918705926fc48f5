#include "store/agent_repo.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "store/db.hpp"

namespace parley::store {
namespace {

using nlohmann::json;

constexpr std::string_view select_agents = R"sql(
  SELECT a.id, a.code, a.name, a.persona_id, p.system_prompt AS persona_prompt, a.greeting,
         a.refusal_text, a.model_settings::text AS model_settings,
         a.retrieval_settings::text AS retrieval_settings, a.is_enabled,
         extract(epoch FROM a.created_at)::bigint AS created_unix
    FROM agents a LEFT JOIN personas p ON p.id = a.persona_id)sql";

agent_overrides read_overrides(std::string_view model_json, std::string_view retrieval_json) {
  agent_overrides o;
  const auto m = json::parse(model_json, nullptr, false);
  if (m.is_object()) {
    if (const auto v = m.find("model");
        v != m.end() && v->is_string() && !v->get<std::string>().empty()) {
      o.model = v->get<std::string>();
    }
    if (const auto v = m.find("temperature"); v != m.end() && v->is_number()) {
      if (const auto t = v->get<double>(); t >= 0 && t <= 2) o.temperature = t;
    }
    if (const auto v = m.find("max_tokens"); v != m.end() && v->is_number_integer()) {
      if (const auto n = v->get<std::int64_t>(); n >= 1) o.max_tokens = n;
    }
  }
  const auto r = json::parse(retrieval_json, nullptr, false);
  if (r.is_object()) {
    if (const auto v = r.find("top_k"); v != r.end() && v->is_number_integer()) {
      if (const auto k = v->get<std::int64_t>();
          k >= 1 && k <= static_cast<std::int64_t>(max_agent_top_k)) {
        o.top_k = static_cast<std::size_t>(k);
      }
    }
    if (const auto v = r.find("min_score"); v != r.end() && v->is_number()) {
      if (const auto x = v->get<double>(); x >= -1 && x <= 1) o.min_score = x;
    }
  }
  return o;
}

agent from_row(const result& r, int row) {
  agent a;
  a.id = r.str(row, "id");
  a.code = r.str(row, "code");
  a.name = r.str(row, "name");
  a.persona_id = r.opt_str(row, "persona_id");
  a.persona_prompt = r.opt_str(row, "persona_prompt");
  a.greeting = r.opt_str(row, "greeting");
  a.refusal_text = r.str(row, "refusal_text");
  a.overrides = read_overrides(r.text(row, "model_settings"), r.text(row, "retrieval_settings"));
  a.is_enabled = r.boolean(row, "is_enabled");
  a.created_unix = r.i64(row, "created_unix");
  return a;
}

}  // namespace

bool is_valid_agent_code(std::string_view code) noexcept {
  if (code.empty() || code.size() > 64) return false;
  const auto ok_first = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  return ok_first(code.front()) && std::ranges::all_of(code, [&](char c) {
           return ok_first(c) || c == '.' || c == '_' || c == '-';
         });
}

agent create_agent(transaction& tx, std::string_view tenant_id, const new_agent& a) {
  std::optional<std::string> persona_id;
  if (a.persona_prompt) {
    persona_id = tx.exec(R"sql(
      INSERT INTO personas (tenant_id, code, name, system_prompt)
      VALUES ($1::uuid, $2, $3, $4)
      ON CONFLICT (tenant_id, code) DO UPDATE SET name = EXCLUDED.name,
                                                  system_prompt = EXCLUDED.system_prompt
      RETURNING id)sql",
                         {tenant_id, a.code, a.name, *a.persona_prompt})
                     .str(0, 0);
  }
  tx.exec(
      "INSERT INTO agents (tenant_id, code, name, persona_id, greeting) "
      "VALUES ($1::uuid, $2, $3, $4::uuid, $5)",
      {tenant_id, a.code, a.name, persona_id, a.greeting});
  return *find_agent(tx, a.code);
}

std::optional<agent> find_agent(transaction& tx, std::string_view code) {
  const auto r = tx.exec(std::string(select_agents) + " WHERE a.code = $1", {code});
  if (r.empty()) return std::nullopt;
  return from_row(r, 0);
}

std::vector<agent> list_agents(transaction& tx, bool enabled_only) {
  const auto r = tx.exec(std::string(select_agents) + (enabled_only ? " WHERE a.is_enabled" : "") +
                         " ORDER BY a.code");
  std::vector<agent> out;
  out.reserve(r.rows());
  for (int i = 0; i < r.rows(); ++i) out.push_back(from_row(r, i));
  return out;
}

std::optional<agent> first_enabled_agent(transaction& tx) {
  const auto r = tx.exec(std::string(select_agents) +
                         " WHERE a.is_enabled ORDER BY a.created_at, a.id LIMIT 1");
  if (r.empty()) return std::nullopt;
  return from_row(r, 0);
}

}  // namespace parley::store
