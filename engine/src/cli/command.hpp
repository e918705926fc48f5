#pragma once

// What every subcommand receives, and the helpers they share. A subcommand is
//   int name(const invocation& inv);
// registered in main.cpp; it returns the exit status and may throw usage_error,
// command_error, config::config_error or store::db_error (main reports them).

#include "cli/args.hpp"
#include "cli/output.hpp"
#include "config/config.hpp"
#include "store/tenant_repo.hpp"

namespace parley::store {
class database;
}

namespace parley::cli {

struct invocation {
  args opts;                // everything after the subcommand name
  output out;               // --json or human
  config::environment env;  // the process environment
};

// The configuration named by --config, PARLEY_CONFIG or var/parley.yaml; also
// applies logging settings so CLI diagnostics follow them. With `secrets_out`, the
// secrets are read as well, their problems listed with the others.
config::config load_config(const invocation& inv, config::secrets* secrets_out = nullptr);

// Options of update commands: absent, "none" (a present nullopt: clear the value),
// or a value; usage_error for anything else. Ranges are the service's to check.
std::optional<bool> bool_option(const args& opts, const std::string& name);
std::optional<std::optional<std::string>> text_or_none(const args& opts, const std::string& name);
std::optional<std::optional<std::int64_t>> whole_or_none(const args& opts, const std::string& name);
std::optional<std::optional<double>> number_or_none(const args& opts, const std::string& name);

// A persona's prompt file, as it is (the service checks size and UTF-8);
// command_error "persona_unreadable" when it cannot be read.
std::string read_persona_file(const std::string& path);

// The tenant with this slug; command_error "tenant_not_found" if there is none.
store::tenant require_tenant(store::database& db, const std::string& slug);

int serve(const invocation& inv);              // parley serve
int migrate(const invocation& inv);            // parley migrate
int tenant(const invocation& inv);             // parley tenant create|list
int key(const invocation& inv);                // parley key create|revoke
int agent(const invocation& inv);              // parley agent create|update|list
int persona(const invocation& inv);            // parley persona set|list
int credential(const invocation& inv);         // parley credential set|delete|list
int rotate_master_key(const invocation& inv);  // parley rotate-master-key
int ingest(const invocation& inv);             // parley ingest
int reindex(const invocation& inv);            // parley reindex
int usage(const invocation& inv);              // parley usage
int eval(const invocation& inv);               // parley eval

}  // namespace parley::cli
