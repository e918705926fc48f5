#pragma once

// Schema migrations: the numbered engine/migrations/NNNN_name.sql files, compiled into
// the binary (cmake/embed_migrations.cmake), applied in order, each inside its own
// transaction, and recorded in schema_migrations.

#include <string>
#include <string_view>
#include <vector>

namespace parley::store {

class database;

struct migration {
  int version;
  std::string_view name;
  std::string_view sql;
};

// Every migration, ascending by version (generated source).
const std::vector<migration>& embedded_migrations();

int latest_migration_version();

struct migrate_report {
  std::vector<int> applied;  // versions applied by this run
  int current = 0;           // schema version afterwards
};

// Applies every pending migration over `dsn` (the owner role). Serialised across
// processes with an advisory lock; re-running is a no-op. Throws db_error, also when
// an applied migration's text differs from the embedded one.
migrate_report migrate(const std::string& dsn);

// The highest applied version; 0 when schema_migrations does not exist yet.
int applied_version(database& db);

}  // namespace parley::store
