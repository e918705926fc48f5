#include "admin/service.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "base/json.hpp"
#include "edge/api_key.hpp"
#include "edge/identity.hpp"
#include "obs/log.hpp"
#include "store/audit_repo.hpp"
#include "store/db.hpp"
#include "store/spend_repo.hpp"
#include "store/text_guard.hpp"
#include "widget/origin.hpp"

namespace parley::admin {
namespace {

using json = nlohmann::json;

constexpr std::int64_t max_rate = 1'000'000'000;  // fits the integer columns
constexpr std::int64_t max_streams = 1'000'000;
constexpr std::size_t max_name = 200;
constexpr std::size_t max_greeting = 2000;
constexpr std::size_t max_persona = 64 * 1024;
constexpr std::size_t max_origins = 32;
constexpr std::int64_t max_budget_tokens = 1'000'000'000'000'000;

refusal invalid(std::string code, const std::string& message) {
  return {refusal::reason::invalid, std::move(code), message};
}

refusal tenant_not_found(const std::string& slug) {
  return {refusal::reason::not_found, "tenant_not_found", "no tenant with slug '" + slug + "'"};
}

// nlohmann's strict dump throws on invalid UTF-8.
bool is_utf8(std::string_view text) {
  try {
    (void)json(std::string(text)).dump();
    return true;
  } catch (const json::type_error&) {
    return false;
  }
}

bool has_control(std::string_view text) {
  return std::ranges::any_of(text, [](unsigned char c) { return c < 0x20 || c == 0x7f; });
}

void check_text(std::string_view field, std::string_view text, std::size_t max, bool single_line) {
  if (text.empty() || text.size() > max) {
    throw invalid("invalid_" + std::string(field),
                  std::string(field) + " must be 1-" + std::to_string(max) + " characters");
  }
  if (store::has_nul(text)) {
    throw invalid("invalid_" + std::string(field),
                  std::string(field) + " must not contain NUL characters (\\u0000)");
  }
  if (!is_utf8(text) || (single_line && has_control(text))) {
    throw invalid(
        "invalid_" + std::string(field),
        std::string(field) + " must be valid UTF-8 text" + (single_line ? " on one line" : ""));
  }
}

// A prompt read from a file ends with a line break the persona does not mean.
void trim_line_ends(std::string& text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
    text.pop_back();
  }
}

void check_slug(const std::string& slug) {
  if (!store::is_valid_slug(slug)) {
    throw invalid("invalid_slug",
                  "slug must be 2-63 characters of a-z, 0-9 and '-', not starting with '-'");
  }
}

void check_limit(std::string_view field, const std::optional<std::int64_t>& v, std::int64_t max) {
  if (v && (*v < 1 || *v > max)) {
    throw invalid("invalid_" + std::string(field),
                  std::string(field) + " must be between 1 and " + std::to_string(max));
  }
}

void check_range(std::string_view field, const std::optional<std::optional<double>>& v, double low,
                 double high) {
  if (v && *v && (**v < low || **v > high)) {
    throw invalid("invalid_" + std::string(field),
                  fmt::format("{} must be between {} and {}", field, low, high));
  }
}

void check_count(std::string_view field, const std::optional<std::optional<std::int64_t>>& v,
                 std::int64_t low, std::int64_t high) {
  if (v && *v && (**v < low || **v > high)) {
    throw invalid("invalid_" + std::string(field),
                  fmt::format("{} must be between {} and {}", field, low, high));
  }
}

// The overlap is checked against the chunk size it will be used with: the one in
// the same change, else the tenant's own.
void check_chunking(const store::tenant_patch& p, const store::tenant& current) {
  constexpr auto low = static_cast<std::int64_t>(store::min_chunk_tokens);
  constexpr auto high = static_cast<std::int64_t>(store::max_chunk_tokens);
  if (p.chunk_tokens && (*p.chunk_tokens < low || *p.chunk_tokens > high)) {
    throw invalid("invalid_chunk_tokens", "chunk_tokens must be between " + std::to_string(low) +
                                              " and " + std::to_string(high));
  }
  if (!p.chunk_overlap) return;
  const auto tokens = p.chunk_tokens ? std::optional<std::int64_t>(*p.chunk_tokens)
                      : current.knowledge.chunk_tokens
                          ? std::optional<std::int64_t>(*current.knowledge.chunk_tokens)
                          : std::nullopt;
  if (!tokens) {
    throw invalid("invalid_chunk_overlap", "set chunk_tokens together with chunk_overlap");
  }
  if (*p.chunk_overlap < 0 || *p.chunk_overlap >= *tokens) {
    throw invalid("invalid_chunk_overlap",
                  "chunk_overlap must be at least 0 and smaller than chunk_tokens (" +
                      std::to_string(*tokens) + ")");
  }
}

void check_origins(const std::vector<std::string>& origins) {
  if (origins.size() > max_origins) {
    throw invalid("invalid_origin", "at most " + std::to_string(max_origins) + " allowed origins");
  }
  std::set<std::string_view> seen;
  for (const auto& o : origins) {
    if (const auto problem = widget::origin_problem(o)) {
      throw invalid("invalid_origin", "allowed origin '" + (is_utf8(o) ? o : std::string("?")) +
                                          "' " + *problem + " (expected scheme://host[:port])");
    }
    if (!seen.insert(o).second)
      throw invalid("invalid_origin", "allowed origin '" + o + "' is listed twice");
  }
}

void check_agent(store::new_agent& a) {
  if (!store::is_valid_agent_code(a.code)) {
    throw invalid("invalid_code",
                  "code must be 1-64 characters of a-z, 0-9, '.', '_' and '-', starting with a "
                  "letter or digit");
  }
  if (a.name.empty()) a.name = a.code;
  check_text("name", a.name, max_name, true);
  if (a.greeting) check_text("greeting", *a.greeting, max_greeting, false);
  if (a.persona_prompt) {
    auto& p = *a.persona_prompt;
    trim_line_ends(p);
    check_text("persona", p, max_persona, false);
  }
}

json limit_json(const std::optional<std::int64_t>& v) { return v ? json(*v) : json(); }
json amount_json(const std::optional<double>& v) { return v ? json(*v) : json(); }

json patch_json(const store::tenant_patch& p) {
  json out = json::object();
  if (p.name) out["name"] = *p.name;
  if (p.rate_rpm) out["rate_rpm"] = limit_json(*p.rate_rpm);
  if (p.rate_burst) out["rate_burst"] = limit_json(*p.rate_burst);
  if (p.max_streams) out["max_streams"] = limit_json(*p.max_streams);
  if (p.allowed_origins) out["allowed_origins"] = *p.allowed_origins;
  if (p.is_active) out["is_active"] = *p.is_active;
  if (p.chunk_tokens) out["chunk_tokens"] = *p.chunk_tokens;
  if (p.chunk_overlap) out["chunk_overlap"] = *p.chunk_overlap;
  if (p.hnsw) out["hnsw"] = *p.hnsw;
  if (p.budget_tokens_day) out["budget_tokens_day"] = limit_json(*p.budget_tokens_day);
  if (p.budget_tokens_month) out["budget_tokens_month"] = limit_json(*p.budget_tokens_month);
  if (p.budget_cost_day) out["budget_cost_day"] = amount_json(*p.budget_cost_day);
  if (p.budget_cost_month) out["budget_cost_month"] = amount_json(*p.budget_cost_month);
  return out;
}

// A slug that cannot exist is refused before the lookup: one with a NUL would
// otherwise find the tenant named by its first part.
store::tenant find_tenant(store::transaction& tx, const std::string& slug) {
  check_slug(slug);
  auto t = store::find_tenant_by_slug(tx, slug);
  if (!t) throw tenant_not_found(slug);
  return *t;
}

}  // namespace

// ---- tenants ---------------------------------------------------------------------------

const provider_catalog service::no_providers;

store::tenant service::create_tenant(store::new_tenant t) {
  check_slug(t.slug);
  check_text("name", t.name, max_name, true);
  check_limit("rate_rpm", t.rate_rpm, max_rate);
  check_limit("rate_burst", t.rate_burst, max_rate);
  check_limit("max_streams", t.max_streams, max_streams);
  check_origins(t.allowed_origins);
  try {
    return db_.with_platform([&](store::transaction& tx) {
      auto created = store::create_tenant(tx, t);
      store::record_audit(
          tx, {created.id, actor_.name, "tenant.create", created.slug,
               base::dump_json({{"request_id", actor_.request_id}, {"tenant", to_json(created)}})});
      return created;
    });
  } catch (const store::db_error& e) {
    if (!e.is_unique_violation()) throw;
    throw refusal(refusal::reason::conflict, "tenant_exists",
                  "a tenant with slug '" + t.slug + "' already exists");
  }
}

std::vector<store::tenant> service::list_tenants() {
  return db_.with_platform([](store::transaction& tx) { return store::list_tenants(tx); });
}

store::tenant service::get_tenant(const std::string& slug) {
  return db_.with_platform([&](store::transaction& tx) { return find_tenant(tx, slug); });
}

store::tenant service::update_tenant(const std::string& slug, store::tenant_patch patch) {
  if (patch.empty()) throw invalid("nothing_to_update", "give at least one field to change");
  if (patch.name) check_text("name", *patch.name, max_name, true);
  if (patch.rate_rpm) check_limit("rate_rpm", *patch.rate_rpm, max_rate);
  if (patch.rate_burst) check_limit("rate_burst", *patch.rate_burst, max_rate);
  if (patch.max_streams) check_limit("max_streams", *patch.max_streams, max_streams);
  if (patch.allowed_origins) check_origins(*patch.allowed_origins);
  check_count("budget_tokens_day", patch.budget_tokens_day, 0, max_budget_tokens);
  check_count("budget_tokens_month", patch.budget_tokens_month, 0, max_budget_tokens);
  check_range("budget_cost_day", patch.budget_cost_day, 0, 1e12);
  check_range("budget_cost_month", patch.budget_cost_month, 0, 1e12);
  return db_.with_platform([&](store::transaction& tx) {
    const auto current = find_tenant(tx, slug);
    check_chunking(patch, current);
    auto updated = store::update_tenant(tx, current.id, patch);
    if (!updated) throw tenant_not_found(slug);
    if (!current.budgets.any() && updated->budgets.any()) store::seed_spend(tx, updated->id);
    store::record_audit(
        tx, {updated->id, actor_.name, "tenant.update", slug,
             base::dump_json({{"request_id", actor_.request_id}, {"changes", patch_json(patch)}})});
    return *updated;
  });
}

usage_report service::usage(const std::string& slug, const usage_query& q) {
  const auto t = get_tenant(slug);
  return read_usage_report(db_, t.id, t.slug, q);
}

// ---- keys ------------------------------------------------------------------------------

issued_key service::issue_key(const std::string& slug, std::string_view kind_text) {
  const auto kind = edge::parse_key_kind(kind_text);
  if (!kind) throw invalid("invalid_kind", "kind must be secret or publishable");
  const auto generated = edge::generate_key(*kind);
  auto record = db_.with_platform([&](store::transaction& tx) {
    const auto t = find_tenant(tx, slug);
    auto r = store::insert_key(tx, t.id, generated.prefix, generated.hash, edge::to_string(*kind));
    store::record_audit(
        tx, {t.id, actor_.name, "key.issue", r.id,
             base::dump_json(
                 {{"request_id", actor_.request_id}, {"prefix", r.prefix}, {"kind", r.kind}})});
    return r;
  });
  obs::info("key_created", {{"tenant_id", record.tenant_id},
                            {"key_id", record.id},
                            {"prefix", record.prefix},
                            {"kind", record.kind}});
  return {std::move(record), generated.key};
}

std::vector<store::api_key_record> service::list_keys(const std::string& slug) {
  return db_.with_platform(
      [&](store::transaction& tx) { return store::list_keys(tx, find_tenant(tx, slug).id); });
}

store::api_key_record service::revoke_key(const key_ref& ref) {
  if (ref.id.has_value() == ref.prefix.has_value()) {
    throw invalid("invalid_key_ref", "name the key by exactly one of its id or its prefix");
  }
  if (ref.id && !edge::is_lower_uuid(*ref.id))
    throw invalid("invalid_key_id", "a key id is a lowercase UUID");
  auto record = db_.with_platform([&](store::transaction& tx) {
    auto r = ref.id ? store::revoke_key_by_id(tx, *ref.id)
                    : store::revoke_key_by_prefix(tx, *ref.prefix);
    if (!r) throw refusal(refusal::reason::not_found, "key_not_found", "no such key");
    store::record_audit(
        tx, {r->tenant_id, actor_.name, "key.revoke", r->id,
             base::dump_json({{"request_id", actor_.request_id}, {"prefix", r->prefix}})});
    return *r;
  });
  obs::info("key_revoked", {{"tenant_id", record.tenant_id}, {"key_id", record.id}});
  return record;
}

// ---- agents ----------------------------------------------------------------------------

store::agent service::create_agent(const std::string& slug, store::new_agent a) {
  check_agent(a);
  const auto t = get_tenant(slug);
  try {
    return db_.with_tenant(t.id, [&](store::transaction& tx) {
      auto created = store::create_agent(tx, t.id, a);
      store::record_audit(
          tx, {t.id, actor_.name, "agent.create", created.code,
               base::dump_json({{"request_id", actor_.request_id}, {"agent", to_json(created)}})});
      return created;
    });
  } catch (const store::db_error& e) {
    if (!e.is_unique_violation()) throw;
    throw refusal(refusal::reason::conflict, "agent_exists",
                  "tenant '" + slug + "' already has an agent '" + a.code + "'");
  }
}

namespace {

void check_agent_patch(const store::agent_patch& p, const provider_catalog& catalog) {
  if (p.provider && *p.provider && !catalog.takes_key.contains(**p.provider)) {
    std::string names;
    for (const auto& [name, _] : catalog.takes_key) names += (names.empty() ? "" : ", ") + name;
    throw invalid("unknown_provider", "provider must be one this service offers (" + names +
                                          "), got '" + **p.provider + "'");
  }
  if (p.name) check_text("name", *p.name, max_name, true);
  if (p.greeting && *p.greeting) check_text("greeting", **p.greeting, max_greeting, false);
  if (p.refusal_text) check_text("refusal_text", *p.refusal_text, max_greeting, false);
  if (p.model && *p.model) check_text("model", **p.model, max_name, true);
  check_range("temperature", p.temperature, 0, 2);
  check_count("max_tokens", p.max_tokens, 1, 1'000'000);
  check_count("top_k", p.top_k, 1, static_cast<std::int64_t>(store::max_agent_top_k));
  check_range("min_score", p.min_score, -1, 1);
}

json agent_patch_json(const agent_update& u) {
  const auto& p = u.patch;
  json out = json::object();
  const auto put = [&out](const char* key, const auto& v) {
    if (v) out[key] = *v ? json(**v) : json();
  };
  if (p.name) out["name"] = *p.name;
  put("greeting", p.greeting);
  if (p.refusal_text) out["refusal_text"] = *p.refusal_text;
  if (p.is_enabled) out["is_enabled"] = *p.is_enabled;
  put("persona", u.persona);
  put("provider", p.provider);
  put("model", p.model);
  put("temperature", p.temperature);
  put("max_tokens", p.max_tokens);
  put("top_k", p.top_k);
  put("min_score", p.min_score);
  return out;
}

}  // namespace

store::agent service::update_agent(const std::string& slug, const std::string& code,
                                   agent_update u) {
  if (u.patch.empty() && !u.persona)
    throw invalid("nothing_to_update", "give at least one field to change");
  check_agent_patch(u.patch, catalog_);
  const auto t = get_tenant(slug);
  return db_.with_tenant(t.id, [&](store::transaction& tx) {
    if (u.persona) {
      u.patch.persona_id = std::optional<std::string>();
      if (*u.persona) {
        const auto p = store::find_persona(tx, **u.persona);
        if (!p) {
          throw refusal(refusal::reason::not_found, "persona_not_found",
                        "tenant '" + slug + "' has no persona '" + **u.persona + "'");
        }
        u.patch.persona_id = std::optional<std::string>(p->id);
      }
    }
    auto updated = store::update_agent(tx, code, u.patch);
    if (!updated) {
      throw refusal(refusal::reason::not_found, "agent_not_found",
                    "tenant '" + slug + "' has no agent '" + code + "'");
    }
    store::record_audit(
        tx,
        {t.id, actor_.name, "agent.update", code,
         base::dump_json({{"request_id", actor_.request_id}, {"changes", agent_patch_json(u)}})});
    return *updated;
  });
}

store::persona service::set_persona(const std::string& slug, const std::string& code,
                                    persona_text p) {
  if (!store::is_valid_agent_code(code)) {
    throw invalid("invalid_code",
                  "a persona's code must be 1-64 characters of a-z, 0-9, '.', '_' and '-', "
                  "starting with a letter or digit");
  }
  const auto name = p.name.value_or(code);
  check_text("name", name, max_name, true);
  trim_line_ends(p.system_prompt);
  check_text("system_prompt", p.system_prompt, max_persona, false);
  const auto t = get_tenant(slug);
  return db_.with_tenant(t.id, [&](store::transaction& tx) {
    auto saved = store::set_persona(tx, t.id, code, name, p.system_prompt);
    store::record_audit(tx, {t.id, actor_.name, "persona.set", code,
                             base::dump_json({{"request_id", actor_.request_id},
                                              {"name", name},
                                              {"system_prompt_bytes", p.system_prompt.size()}})});
    return saved;
  });
}

std::vector<store::persona> service::list_personas(const std::string& slug) {
  const auto t = get_tenant(slug);
  return db_.with_tenant(t.id, [](store::transaction& tx) { return store::list_personas(tx); });
}

std::vector<store::agent> service::list_agents(const std::string& slug) {
  const auto t = get_tenant(slug);
  return db_.with_tenant(t.id,
                         [](store::transaction& tx) { return store::list_agents(tx, false); });
}

// ---- views -----------------------------------------------------------------------------

std::optional<std::int64_t> knowledge_limit(const std::optional<std::size_t>& v) {
  if (!v) return std::nullopt;
  return static_cast<std::int64_t>(*v);
}

json to_json(const store::tenant& t) {
  return {{"id", t.id},
          {"slug", t.slug},
          {"name", t.name},
          {"tier", t.tier},
          {"is_active", t.is_active},
          {"rate_rpm", limit_json(t.rate_rpm)},
          {"rate_burst", limit_json(t.rate_burst)},
          {"max_streams", limit_json(t.max_streams)},
          {"allowed_origins", t.allowed_origins},
          {"chunk_tokens", limit_json(knowledge_limit(t.knowledge.chunk_tokens))},
          {"chunk_overlap", limit_json(knowledge_limit(t.knowledge.chunk_overlap))},
          {"hnsw", t.knowledge.hnsw},
          {"embedder", t.knowledge.embedder ? json(*t.knowledge.embedder) : json(nullptr)},
          {"budget_tokens_day", limit_json(t.budgets.tokens_day)},
          {"budget_tokens_month", limit_json(t.budgets.tokens_month)},
          {"budget_cost_day", amount_json(t.budgets.cost_day)},
          {"budget_cost_month", amount_json(t.budgets.cost_month)},
          {"created", t.created_unix}};
}

json to_json(const store::api_key_record& k) {
  return {{"id", k.id},
          {"tenant_id", k.tenant_id},
          {"prefix", k.prefix},
          {"kind", k.kind},
          {"created", k.created_unix},
          {"last_used", limit_json(k.last_used_unix)},
          {"revoked", limit_json(k.revoked_unix)}};
}

json to_json(const store::agent& a) {
  const auto& o = a.overrides;
  const auto opt = [](const auto& v) { return v ? json(*v) : json(); };
  return {{"id", a.id},
          {"code", a.code},
          {"name", a.name},
          {"greeting", opt(a.greeting)},
          {"refusal_text", a.refusal_text},
          {"persona_id", opt(a.persona_id)},
          {"provider", opt(o.provider)},
          {"model", opt(o.model)},
          {"temperature", opt(o.temperature)},
          {"max_tokens", opt(o.max_tokens)},
          {"top_k", opt(o.top_k)},
          {"min_score", opt(o.min_score)},
          {"is_enabled", a.is_enabled},
          {"created", a.created_unix}};
}

json to_json(const store::persona& p) {
  return {{"id", p.id}, {"code", p.code}, {"name", p.name}, {"system_prompt", p.system_prompt}};
}

}  // namespace parley::admin
