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
    const auto text = [&m](const char* key) -> std::optional<std::string> {
      const auto v = m.find(key);
      if (v == m.end() || !v->is_string() || v->get<std::string>().empty()) return std::nullopt;
      return v->get<std::string>();
    };
    o.provider = text("provider");
    o.model = text("model");
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
  if (a.persona_prompt)
    persona_id = set_persona(tx, tenant_id, a.code, a.name, *a.persona_prompt).id;
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

std::optional<agent> update_agent(transaction& tx, std::string_view code,
                                  const agent_patch& patch) {
  std::vector<param> params{param(code)};
  std::string sets;
  const auto next = [&](param value, std::string_view cast = "") {
    params.push_back(std::move(value));
    return "$" + std::to_string(params.size()) + std::string(cast);
  };
  const auto set = [&](std::string_view column, param value, std::string_view cast = "") {
    sets += (sets.empty() ? "" : ", ") + std::string(column) + " = " + next(std::move(value), cast);
  };
  if (patch.name) set("name", *patch.name);
  if (patch.greeting) set("greeting", *patch.greeting);
  if (patch.refusal_text) set("refusal_text", *patch.refusal_text);
  if (patch.is_enabled) set("is_enabled", *patch.is_enabled);
  if (patch.persona_id) set("persona_id", *patch.persona_id, "::uuid");
  // A settings key is set, or removed (so the configured default applies again).
  std::string model = "model_settings";
  std::string retrieval = "retrieval_settings";
  const auto merge = [&](std::string& column, std::string_view key, const auto& value,
                         std::string_view cast) {
    if (!value) return;
    if (*value) {
      column = "(" + column + " || jsonb_build_object('" + std::string(key) + "', " +
               next(param(**value), cast) + "))";
    } else {
      column = "(" + column + " - '" + std::string(key) + "')";
    }
  };
  merge(model, "provider", patch.provider, "::text");
  merge(model, "model", patch.model, "::text");
  merge(model, "temperature", patch.temperature, "::float8");
  merge(model, "max_tokens", patch.max_tokens, "::bigint");
  merge(retrieval, "top_k", patch.top_k, "::bigint");
  merge(retrieval, "min_score", patch.min_score, "::float8");
  if (model != "model_settings") sets += (sets.empty() ? "" : ", ") + ("model_settings = " + model);
  if (retrieval != "retrieval_settings") {
    sets += (sets.empty() ? "" : ", ") + ("retrieval_settings = " + retrieval);
  }
  const auto r = tx.exec("UPDATE agents SET " + sets + " WHERE code = $1 RETURNING code", params);
  if (r.empty()) return std::nullopt;
  return find_agent(tx, code);
}

namespace {

persona persona_of(const result& r, int row) {
  return {r.str(row, 0), r.str(row, 1), r.str(row, 2), r.str(row, 3)};
}

}  // namespace

persona set_persona(transaction& tx, std::string_view tenant_id, std::string_view code,
                    std::string_view name, std::string_view system_prompt) {
  const auto r = tx.exec(R"sql(
      INSERT INTO personas (tenant_id, code, name, system_prompt)
      VALUES ($1::uuid, $2, $3, $4)
      ON CONFLICT (tenant_id, code) DO UPDATE SET name = EXCLUDED.name,
                                                  system_prompt = EXCLUDED.system_prompt
      RETURNING id, code, name, system_prompt)sql",
                         {tenant_id, code, name, system_prompt});
  return persona_of(r, 0);
}

std::optional<persona> find_persona(transaction& tx, std::string_view code) {
  const auto r =
      tx.exec("SELECT id, code, name, system_prompt FROM personas WHERE code = $1", {code});
  if (r.empty()) return std::nullopt;
  return persona_of(r, 0);
}

std::vector<persona> list_personas(transaction& tx) {
  const auto r = tx.exec("SELECT id, code, name, system_prompt FROM personas ORDER BY code");
  std::vector<persona> out;
  for (int i = 0; i < r.rows(); ++i) out.push_back(persona_of(r, i));
  return out;
}

std::optional<agent> first_enabled_agent(transaction& tx) {
  const auto r = tx.exec(std::string(select_agents) +
                         " WHERE a.is_enabled ORDER BY a.created_at, a.id LIMIT 1");
  if (r.empty()) return std::nullopt;
  return from_row(r, 0);
}

}  // namespace parley::store
