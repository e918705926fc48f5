// The `parley` command: subcommand dispatch only.

#include <algorithm>
#include <iostream>
#include <string_view>
#include <utility>

#include "admin/service.hpp"
#include "cli/command.hpp"
#include "store/db.hpp"

namespace {

using parley::cli::invocation;

struct subcommand {
  std::string_view name;
  int (*run)(const invocation&);
  std::string_view usage;
};

constexpr subcommand subcommands[] = {
    {"serve", parley::cli::serve, "serve                                    run the engine"},
    {"migrate", parley::cli::migrate,
     "migrate                                  apply database migrations"},
    {"tenant", parley::cli::tenant,
     "tenant create --slug S --name N [--rpm R] [--burst B] [--max-streams M] [--allowed-origin "
     "O]...\n"
     "  tenant update --slug S [--name N] [--rpm R] [--burst B] [--max-streams M]\n"
     "                [--allowed-origin O]... [--active true|false]\n"
     "                [--chunk-tokens N] [--chunk-overlap N] [--hnsw true|false]\n"
     "                [--budget-tokens-day N|none] [--budget-tokens-month N|none]\n"
     "                [--budget-cost-day X|none] [--budget-cost-month X|none]\n"
     "  tenant list"},
    {"key", parley::cli::key,
     "key create --tenant SLUG [--kind secret|publishable]\n"
     "  key revoke --key-id UUID | --prefix PREFIX"},
    {"agent", parley::cli::agent,
     "agent create --tenant SLUG --code CODE [--name NAME] [--greeting TEXT] [--persona-file "
     "FILE]\n"
     "  agent update --tenant SLUG --code CODE [--name NAME] [--greeting TEXT|none]\n"
     "               [--refusal-text TEXT] [--enabled true|false] [--persona CODE|none]\n"
     "               [--provider P|none] [--model M|none] [--temperature X|none]\n"
     "               [--max-tokens N|none]"
     " [--top-k N|none] [--min-score X|none]\n"
     "  agent list --tenant SLUG"},
    {"persona", parley::cli::persona,
     "persona set --tenant SLUG --code CODE --file PROMPT [--name NAME]\n"
     "  persona list --tenant SLUG"},
    {"credential", parley::cli::credential,
     "credential set --tenant SLUG --provider P   the tenant's own API key, read from stdin\n"
     "  credential delete --tenant SLUG --provider P\n"
     "  credential list --tenant SLUG             which providers have one (never the key)"},
    {"rotate-master-key", parley::cli::rotate_master_key,
     "rotate-master-key                        seal every stored credential with the newest\n"
     "                                         key of llm.master_keys_file"},
    {"ingest", parley::cli::ingest,
     "ingest --tenant SLUG --agent CODE PATH...  load txt, md, html or pdf files or folders"},
    {"reindex", parley::cli::reindex,
     "reindex --tenant SLUG [--embedder NAME] [--batch N]  embed a tenant's chunks anew and\n"
     "                                         switch it to the embedder"},
    {"usage", parley::cli::usage,
     "usage --tenant SLUG [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--by day|agent|model]\n"
     "  usage --all [--from YYYY-MM-DD] [--to YYYY-MM-DD]  every tenant (database.reporting_dsn)\n"
     "                                         requests, tokens, cost, errors and refusals"},
    {"eval", parley::cli::eval,
     "eval --corpus F --queries F --qrels F [--embedder NAME] [--limit N]\n"
     "                                         retrieval quality on a BEIR data set"},
};

void print_usage(std::ostream& os) {
  os << "usage: parley [--config FILE] [--json] <command> [options]\n"
        "       (--config and --json may also follow the command)\n\ncommands:\n";
  for (const auto& c : subcommands) os << "  " << c.usage << '\n';
  os << "\nConfiguration: --config FILE, else $PARLEY_CONFIG, else var/parley.yaml.\n";
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> words(argv + std::min(argc, 1), argv + argc);
  parley::cli::command_line line;
  parley::cli::output out;
  out.json = std::ranges::find(words, "--json") != words.end();  // for an error in the split
  try {
    line = parley::cli::split_command_line(words);
  } catch (const parley::cli::usage_error& e) {
    out.error("usage", std::string(e.what()) + " (see parley --help)");
    return 2;
  }
  out.json = line.json;
  if (line.help || line.command.empty()) {
    print_usage(line.help ? std::cout : std::cerr);
    return line.help ? 0 : 2;
  }

  const subcommand* cmd = nullptr;
  for (const auto& c : subcommands) {
    if (c.name == line.command) cmd = &c;
  }
  if (cmd == nullptr) {
    out.error("usage", "unknown command '" + line.command + "' (see parley --help)");
    return 2;
  }
  try {
    const invocation inv{parley::cli::args(std::move(line.words), {"json", "all"}), out,
                         parley::config::process_environment()};
    return cmd->run(inv);
  } catch (const parley::cli::usage_error& e) {
    out.error("usage", e.what());
    if (!out.json) std::cerr << "usage: parley " << cmd->usage << '\n';
    return 2;
  } catch (const parley::config::config_error& e) {
    out.error("invalid_config", "invalid configuration", e.problems());
    return 1;
  } catch (const parley::admin::refusal& e) {
    // Bad values are the caller's mistake (like a usage error); the rest are refusals.
    out.error(e.code(), e.what());
    return e.why() == parley::admin::refusal::reason::invalid ? 2 : 1;
  } catch (const parley::cli::command_error& e) {
    out.error(e.code(), e.what());
    return 1;
  } catch (const parley::store::db_error& e) {
    out.error("database_error", e.what());
    return 1;
  } catch (const std::exception& e) {
    out.error("error", e.what());
    return 1;
  }
}
