#pragma once

// The administrative operations, once: the CLI (tenant, key, agent subcommands) and
// the admin API (/admin/v1/...) both call this service, so validation, SQL and the
// audit record are the same whichever door a change comes through. Each write runs
// in one transaction together with its audit_log row; a refused request changes
// nothing.
//
// Blocking: the CLI calls it directly, the HTTP handlers through database::async.

#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "admin/usage_report.hpp"
#include "base/sealed_box.hpp"
#include "store/agent_repo.hpp"
#include "store/key_repo.hpp"
#include "store/tenant_repo.hpp"

namespace parley::store {
class database;
}

namespace parley::admin {

// Why an operation was refused. `code` is the machine-readable reason
// ("invalid_origin", "tenant_not_found", "tenant_exists", ...).
class refusal : public std::runtime_error {
 public:
  enum class reason { invalid, not_found, conflict, unavailable };

  refusal(reason why, std::string code, const std::string& message)
      : std::runtime_error(message), why_(why), code_(std::move(code)) {}

  reason why() const noexcept { return why_; }
  const std::string& code() const noexcept { return code_; }

 private:
  reason why_;
  std::string code_;
};

// Who is acting, for the audit log.
struct actor {
  std::string name;        // "cli" or "admin-api"
  std::string request_id;  // empty for the CLI
};

struct issued_key {
  store::api_key_record record;
  std::string key;  // shown once, never stored or logged
};

// The providers the operator configured, which agents and tenants' credentials may
// name, and the box credentials are sealed with.
struct provider_catalog {
  std::map<std::string, bool, std::less<>> takes_key;  // name -> whether it calls out with a key
  const base::sealed_box* credentials = nullptr;       // null: none can be stored
};

// A key named by its id or by its prefix (exactly one).
struct key_ref {
  std::optional<std::string> id;
  std::optional<std::string> prefix;
};

// An agent's update: the persona named by its code (null: none).
struct agent_update {
  store::agent_patch patch;
  std::optional<std::optional<std::string>> persona;
};

struct persona_text {
  std::optional<std::string> name;  // absent: the persona's code
  std::string system_prompt;
};

class service {
 public:
  // Agents' providers are checked against `catalog`, which must outlive the service.
  service(store::database& db, actor who, const provider_catalog& catalog = no_providers)
      : db_(db), actor_(std::move(who)), catalog_(catalog) {}

  store::tenant create_tenant(store::new_tenant t);
  std::vector<store::tenant> list_tenants();
  store::tenant get_tenant(const std::string& slug);
  store::tenant update_tenant(const std::string& slug, store::tenant_patch patch);

  // `kind`: "secret" or "publishable".
  issued_key issue_key(const std::string& slug, std::string_view kind);
  std::vector<store::api_key_record> list_keys(const std::string& slug);
  store::api_key_record revoke_key(const key_ref& ref);

  usage_report usage(const std::string& slug, const usage_query& q);

  store::agent create_agent(const std::string& slug, store::new_agent a);
  std::vector<store::agent> list_agents(const std::string& slug);
  store::agent update_agent(const std::string& slug, const std::string& code, agent_update u);

  store::persona set_persona(const std::string& slug, const std::string& code, persona_text p);
  std::vector<store::persona> list_personas(const std::string& slug);

 private:
  static const provider_catalog no_providers;

  store::database& db_;
  actor actor_;
  const provider_catalog& catalog_;
};

// The JSON views both doors print (CLI --json, admin API bodies). Never secrets.
nlohmann::json to_json(const store::tenant& t);
nlohmann::json to_json(const store::api_key_record& k);
nlohmann::json to_json(const store::agent& a);
nlohmann::json to_json(const store::persona& p);

}  // namespace parley::admin
