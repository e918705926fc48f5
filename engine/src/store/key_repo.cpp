#include "store/key_repo.hpp"

#include "store/db.hpp"

namespace parley::store {
namespace {

constexpr std::string_view columns =
    "id, tenant_id, prefix, kind, scopes, extract(epoch FROM created_at)::bigint AS created_unix, "
    "extract(epoch FROM last_used_at)::bigint AS last_used_unix, "
    "extract(epoch FROM revoked_at)::bigint AS revoked_unix";

api_key_record from_row(const result& r, int row) {
  api_key_record k;
  k.id = r.str(row, "id");
  k.tenant_id = r.str(row, "tenant_id");
  k.prefix = r.str(row, "prefix");
  k.kind = r.str(row, "kind");
  k.scopes = r.text_array(row, "scopes");
  k.created_unix = r.i64(row, "created_unix");
  k.last_used_unix = r.opt_i64(row, "last_used_unix");
  k.revoked_unix = r.opt_i64(row, "revoked_unix");
  return k;
}

std::optional<api_key_record> first(const result& r) {
  if (r.empty()) return std::nullopt;
  return from_row(r, 0);
}

}  // namespace

api_key_record insert_key(transaction& tx, std::string_view tenant_id, std::string_view prefix,
                          std::string_view key_hash, std::string_view kind) {
  return from_row(tx.exec("INSERT INTO api_keys (tenant_id, prefix, key_hash, kind) "
                          "VALUES ($1::uuid, $2, $3, $4) RETURNING " +
                              std::string(columns),
                          {tenant_id, prefix, key_hash, kind}),
                  0);
}

std::vector<api_key_record> list_keys(transaction& tx, std::string_view tenant_id) {
  const auto r =
      tx.exec("SELECT " + std::string(columns) +
                  " FROM api_keys WHERE tenant_id = $1::uuid ORDER BY created_at DESC, id",
              {tenant_id});
  std::vector<api_key_record> out;
  out.reserve(r.rows());
  for (int i = 0; i < r.rows(); ++i) out.push_back(from_row(r, i));
  return out;
}

std::optional<api_key_record> revoke_key_by_id(transaction& tx, std::string_view key_id) {
  return first(
      tx.exec("UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) "
              "WHERE id = $1::uuid RETURNING " +
                  std::string(columns),
              {key_id}));
}

std::optional<api_key_record> revoke_key_by_prefix(transaction& tx, std::string_view prefix) {
  return first(
      tx.exec("UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) "
              "WHERE prefix = $1 RETURNING " +
                  std::string(columns),
              {prefix}));
}

std::optional<key_grant> introspect_secret_key(transaction& tx, std::string_view key_hash) {
  // The last_used_at write is throttled to once a minute per key, so a burst of
  // cache misses at the edge does not turn into a burst of row updates.
  const auto r = tx.exec(R"sql(
    WITH hit AS (
      SELECT k.id, k.tenant_id, k.kind, k.last_used_at, t.rate_rpm, t.rate_burst, t.max_streams
        FROM api_keys k JOIN tenants t ON t.id = k.tenant_id
       WHERE k.key_hash = $1 AND k.kind = 'secret' AND k.revoked_at IS NULL AND t.is_active
    ), touched AS (
      UPDATE api_keys SET last_used_at = now()
       WHERE id IN (SELECT id FROM hit
                     WHERE last_used_at IS NULL OR last_used_at < now() - interval '1 minute')
    )
    SELECT id, tenant_id, kind, rate_rpm, rate_burst, max_streams FROM hit)sql",
                         {key_hash});
  if (r.empty()) return std::nullopt;
  key_grant g;
  g.key_id = r.str(0, "id");
  g.tenant_id = r.str(0, "tenant_id");
  g.kind = r.str(0, "kind");
  g.plan = plan_of(r, 0);
  return g;
}

namespace {

// The live publishable key `column` = `value` names (recording its use once a minute).
std::optional<site_key> live_site_key(transaction& tx, std::string_view column,
                                      std::string_view value) {
  const auto r = tx.exec(R"sql(
    WITH hit AS (
      SELECT k.id, k.tenant_id, k.last_used_at, t.allowed_origins,
             t.rate_rpm, t.rate_burst, t.max_streams
        FROM api_keys k JOIN tenants t ON t.id = k.tenant_id
       WHERE )sql" + std::string(column) +
                             R"sql( = $1 AND k.kind = 'publishable'
         AND k.revoked_at IS NULL AND t.is_active
    ), touched AS (
      UPDATE api_keys SET last_used_at = now()
       WHERE id IN (SELECT id FROM hit
                     WHERE last_used_at IS NULL OR last_used_at < now() - interval '1 minute')
    )
    SELECT id, tenant_id, allowed_origins, rate_rpm, rate_burst, max_streams FROM hit)sql",
                         {value});
  if (r.empty()) return std::nullopt;
  return site_key{r.str(0, "id"), r.str(0, "tenant_id"), r.text_array(0, "allowed_origins"),
                  plan_of(r, 0)};
}

}  // namespace

std::optional<site_key> find_site_key(transaction& tx, std::string_view key_hash) {
  return live_site_key(tx, "k.key_hash", key_hash);
}

std::optional<site_key> find_site_key_by_id(transaction& tx, std::string_view key_id) {
  return live_site_key(tx, "k.id", key_id);
}

}  // namespace parley::store
