#include "cli/command.hpp"
#include "store/migrations.hpp"

namespace parley::cli {

int migrate(const invocation& inv) {
  inv.opts.allow_only({"config", "json"});
  const auto cfg = load_config(inv);
  const auto report = store::migrate(cfg.database.migrate_dsn);
  std::string human = report.applied.empty() ? "schema is up to date" : "applied migrations:";
  for (int v : report.applied) human += " " + std::to_string(v);
  human += "\nschema version " + std::to_string(report.current);
  inv.out.result({{"applied", report.applied}, {"version", report.current}}, human);
  return 0;
}

}  // namespace parley::cli
