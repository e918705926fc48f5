// parley persona set --tenant SLUG --code CODE --file PROMPT.md [--name NAME]
// parley persona list --tenant SLUG
//
// A persona is a system prompt agents share (agent update --persona CODE); setting
// one that exists replaces its prompt for every agent that uses it.

#include <fmt/format.h>

#include "cli/admin_session.hpp"

namespace parley::cli {
namespace {

int set(const invocation& inv) {
  inv.opts.allow_only({"config", "json", "tenant", "code", "file", "name"});
  const std::string slug = inv.opts.require("tenant");
  const std::string code = inv.opts.require("code");
  admin::persona_text text{inv.opts.get("name"), read_persona_file(inv.opts.require("file"))};
  const auto saved = admin_session(inv)->set_persona(slug, code, std::move(text));
  inv.out.result(admin::to_json(saved),
                 fmt::format("set persona {} ({}) of tenant {}: {} bytes", saved.code, saved.name,
                             slug, saved.system_prompt.size()));
  return 0;
}

int list(const invocation& inv) {
  inv.opts.allow_only({"config", "json", "tenant"});
  const std::string slug = inv.opts.require("tenant");
  const auto personas = admin_session(inv)->list_personas(slug);
  nlohmann::json data = nlohmann::json::array();
  std::string human = fmt::format("{:<24} {:<36} {}\n", "CODE", "ID", "NAME");
  for (const auto& p : personas) {
    data.push_back(admin::to_json(p));
    human += fmt::format("{:<24} {:<36} {}\n", p.code, p.id, p.name);
  }
  inv.out.result({{"tenant", slug}, {"personas", data}}, human);
  return 0;
}

}  // namespace

int persona(const invocation& inv) {
  const auto& verb = inv.opts.positional();
  if (verb.size() == 1 && verb[0] == "set") return set(inv);
  if (verb.size() == 1 && verb[0] == "list") return list(inv);
  throw usage_error("expected 'persona set' or 'persona list'");
}

}  // namespace parley::cli
