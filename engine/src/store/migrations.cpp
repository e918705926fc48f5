#include "store/migrations.hpp"

#include <algorithm>

#include "base/crypto.hpp"
#include "obs/log.hpp"
#include "store/db.hpp"

namespace parley::store {
namespace {

// Any constant shared by every `parley migrate`: concurrent runs wait for each other.
constexpr std::int64_t migrate_lock_key = 0x7061726c6579;  // "parley"

constexpr std::string_view create_table = R"sql(
CREATE TABLE IF NOT EXISTS schema_migrations (
  version     integer PRIMARY KEY,
  name        text NOT NULL,
  checksum    text NOT NULL,
  applied_at  timestamptz NOT NULL DEFAULT now()
))sql";

// Applies `m` unless already recorded; returns whether it ran.
bool apply(transaction& tx, const migration& m) {
  tx.exec("SELECT pg_advisory_xact_lock($1)", {migrate_lock_key});
  tx.exec_script(create_table);
  const std::string checksum = base::sha256_hex(m.sql);
  const auto row =
      tx.exec("SELECT checksum FROM schema_migrations WHERE version = $1", {m.version});
  if (!row.empty()) {
    if (row.text(0, 0) != checksum) {
      throw db_error("migration " + std::to_string(m.version) + "_" + std::string(m.name) +
                         " was changed after it was applied; add a new migration instead",
                     "");
    }
    return false;
  }
  tx.exec_script(m.sql);
  tx.exec("INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
          {m.version, m.name, checksum});
  return true;
}

}  // namespace

int latest_migration_version() {
  const auto& all = embedded_migrations();
  return all.empty() ? 0 : all.back().version;
}

migrate_report migrate(const std::string& dsn) {
  database db(dsn, 1);
  migrate_report report;
  for (const auto& m : embedded_migrations()) {
    const bool ran = db.with_platform([&](transaction& tx) { return apply(tx, m); });
    if (ran) {
      report.applied.push_back(m.version);
      obs::info("migration_applied", {{"version", m.version}, {"name", m.name}});
    }
  }
  report.current = applied_version(db);
  return report;
}

int applied_version(database& db) {
  return db.with_platform([](transaction& tx) {
    const auto exists = tx.exec("SELECT to_regclass('schema_migrations') IS NOT NULL");
    if (!exists.boolean(0, 0)) return 0;
    return static_cast<int>(
        tx.exec("SELECT coalesce(max(version), 0) FROM schema_migrations").i64(0, 0));
  });
}

}  // namespace parley::store
