#include <fmt/format.h>

#include <fstream>
#include <sstream>

#include "cli/admin_session.hpp"

namespace parley::cli {
namespace {

// The service checks the text (size, UTF-8); this only reads it.
std::string read_persona(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw command_error("persona_unreadable", "cannot read persona file '" + path + "'");
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

int create(const invocation& inv) {
  inv.opts.allow_only({"config", "json", "tenant", "code", "name", "greeting", "persona-file"});
  const std::string slug = inv.opts.require("tenant");
  store::new_agent a;
  a.code = inv.opts.require("code");
  a.name = inv.opts.get("name").value_or("");
  a.greeting = inv.opts.get("greeting");
  if (const auto file = inv.opts.get("persona-file")) a.persona_prompt = read_persona(*file);
  const auto created = admin_session(inv)->create_agent(slug, std::move(a));
  inv.out.result(admin::to_json(created), fmt::format("created agent {} ({}) id={} for tenant {}{}",
                                                      created.code, created.name, created.id, slug,
                                                      created.persona_id ? " with persona" : ""));
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
  throw usage_error("expected 'agent create' or 'agent list'");
}

}  // namespace parley::cli
