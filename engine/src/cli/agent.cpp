#include <fmt/format.h>

#include <fstream>
#include <sstream>

#include "cli/command.hpp"
#include "store/agent_repo.hpp"
#include "store/db.hpp"

namespace parley::cli {
namespace {

constexpr std::size_t max_persona_bytes = 64 * 1024;

nlohmann::json to_json(const store::agent& a) {
  return {{"id", a.id},
          {"code", a.code},
          {"name", a.name},
          {"persona_id", a.persona_id ? nlohmann::json(*a.persona_id) : nlohmann::json()},
          {"is_enabled", a.is_enabled},
          {"created", a.created_unix}};
}

std::string read_persona(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw command_error("persona_unreadable", "cannot read persona file '" + path + "'");
  std::ostringstream buf;
  buf << in.rdbuf();
  std::string text = buf.str();
  if (text.size() > max_persona_bytes) {
    throw command_error("persona_too_large", "persona file '" + path + "' is larger than 64 KiB");
  }
  try {
    (void)nlohmann::json(text).dump();  // the strict dump throws on invalid UTF-8
  } catch (const nlohmann::json::type_error&) {
    throw command_error("persona_invalid", "persona file '" + path + "' is not valid UTF-8 text");
  }
  if (text.find('\0') != std::string::npos) {
    throw command_error("persona_invalid", "persona file '" + path + "' is not text");
  }
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  if (text.empty()) throw command_error("persona_invalid", "persona file '" + path + "' is empty");
  return text;
}

int create(const invocation& inv) {
  inv.opts.allow_only({"config", "json", "tenant", "code", "name", "persona-file"});
  const std::string slug = inv.opts.require("tenant");
  store::new_agent a;
  a.code = inv.opts.require("code");
  a.name = inv.opts.get("name").value_or(a.code);
  if (!store::is_valid_agent_code(a.code)) {
    throw usage_error("--code must be 1-64 characters of a-z, 0-9, '.', '_' and '-', starting with a letter or digit");
  }
  if (a.name.empty() || a.name.size() > 200) throw usage_error("--name must be 1-200 characters");
  if (const auto file = inv.opts.get("persona-file")) a.persona_prompt = read_persona(*file);

  const auto cfg = load_config(inv);
  store::database db(cfg.database.dsn, 1);
  const auto t = require_tenant(db, slug);
  store::agent created;
  try {
    created = db.with_tenant(t.id, [&](store::transaction& tx) { return store::create_agent(tx, t.id, a); });
  } catch (const store::db_error& e) {
    if (e.is_unique_violation()) {
      throw command_error("agent_exists", "tenant '" + slug + "' already has an agent '" + a.code + "'");
    }
    throw;
  }
  inv.out.result(to_json(created), fmt::format("created agent {} ({}) id={} for tenant {}{}", created.code,
                                               created.name, created.id, slug,
                                               created.persona_id ? " with persona" : ""));
  return 0;
}

int list(const invocation& inv) {
  inv.opts.allow_only({"config", "json", "tenant"});
  const std::string slug = inv.opts.require("tenant");
  const auto cfg = load_config(inv);
  store::database db(cfg.database.dsn, 1);
  const auto t = require_tenant(db, slug);
  const auto agents = db.with_tenant(t.id, [](store::transaction& tx) { return store::list_agents(tx, false); });
  nlohmann::json data = nlohmann::json::array();
  std::string human = fmt::format("{:<24} {:<36} {:<8} {}\n", "CODE", "ID", "ENABLED", "NAME");
  for (const auto& a : agents) {
    data.push_back(to_json(a));
    human += fmt::format("{:<24} {:<36} {:<8} {}\n", a.code, a.id, a.is_enabled ? "yes" : "no", a.name);
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
