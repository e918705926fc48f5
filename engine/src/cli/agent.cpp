#include <fmt/format.h>

#include "cli/admin_session.hpp"

namespace parley::cli {
namespace {

int create(const invocation& inv) {
  inv.opts.allow_only({"config", "json", "tenant", "code", "name", "greeting", "persona-file"});
  const std::string slug = inv.opts.require("tenant");
  store::new_agent a;
  a.code = inv.opts.require("code");
  a.name = inv.opts.get("name").value_or("");
  a.greeting = inv.opts.get("greeting");
  if (const auto file = inv.opts.get("persona-file")) a.persona_prompt = read_persona_file(*file);
  const auto created = admin_session(inv)->create_agent(slug, std::move(a));
  inv.out.result(admin::to_json(created), fmt::format("created agent {} ({}) id={} for tenant {}{}",
                                                      created.code, created.name, created.id, slug,
                                                      created.persona_id ? " with persona" : ""));
  return 0;
}

// Only what is given changes; "none" clears a setting (the configured default applies).
int update(const invocation& inv) {
  inv.opts.allow_only({"config", "json", "tenant", "code", "name", "greeting", "refusal-text",
                       "enabled", "persona", "provider", "model", "temperature", "max-tokens",
                       "top-k", "min-score"});
  const std::string slug = inv.opts.require("tenant");
  const std::string code = inv.opts.require("code");
  admin::agent_update u;
  u.patch.name = inv.opts.get("name");
  u.patch.greeting = text_or_none(inv.opts, "greeting");
  u.patch.refusal_text = inv.opts.get("refusal-text");
  u.patch.is_enabled = bool_option(inv.opts, "enabled");
  u.persona = text_or_none(inv.opts, "persona");
  u.patch.provider = text_or_none(inv.opts, "provider");
  u.patch.model = text_or_none(inv.opts, "model");
  u.patch.temperature = number_or_none(inv.opts, "temperature");
  u.patch.max_tokens = whole_or_none(inv.opts, "max-tokens");
  u.patch.top_k = whole_or_none(inv.opts, "top-k");
  u.patch.min_score = number_or_none(inv.opts, "min-score");
  const auto updated = admin_session(inv)->update_agent(slug, code, std::move(u));
  inv.out.result(admin::to_json(updated),
                 fmt::format("updated agent {} ({}) of tenant {}: {}", updated.code, updated.name,
                             slug, updated.is_enabled ? "enabled" : "disabled"));
  return 0;
}

int list(const invocation& inv) {
  inv.opts.allow_only({"config", "json", "tenant"});
  const std::string slug = inv.opts.require("tenant");
  const auto agents = admin_session(inv)->list_agents(slug);
  nlohmann::json data = nlohmann::json::array();
  std::string human = fmt::format("{:<24} {:<36} {:<8} {}\n", "CODE", "ID", "ENABLED", "NAME");
  for (const auto& a : agents) {
    data.push_back(admin::to_json(a));
    human +=
        fmt::format("{:<24} {:<36} {:<8} {}\n", a.code, a.id, a.is_enabled ? "yes" : "no", a.name);
  }
  inv.out.result({{"tenant", slug}, {"agents", data}}, human);
  return 0;
}

}  // namespace

int agent(const invocation& inv) {
  const auto& verb = inv.opts.positional();
  if (verb.size() == 1 && verb[0] == "create") return create(inv);
  if (verb.size() == 1 && verb[0] == "list") return list(inv);
  if (verb.size() == 1 && verb[0] == "update") return update(inv);
  throw usage_error("expected 'agent create', 'agent update' or 'agent list'");
}

}  // namespace parley::cli
