#include "store/credential_repo.hpp"

#include <span>

#include "store/db.hpp"

namespace parley::store {
namespace {

constexpr std::string_view columns = R"sql(
  provider, key_id, nonce, ciphertext, extract(epoch FROM created_at)::bigint AS created_unix,
  extract(epoch FROM updated_at)::bigint AS updated_unix)sql";

param bytes(const std::string& raw) {
  return param::bytea(std::as_bytes(std::span(raw.data(), raw.size())));
}

stored_credential from_row(const result& r, int row) {
  return {r.str(row, "provider"),
          {r.str(row, "key_id"), r.bytea(row, "nonce"), r.bytea(row, "ciphertext")},
          r.i64(row, "created_unix"),
          r.i64(row, "updated_unix")};
}

}  // namespace

std::string credential_context(std::string_view tenant_id, std::string_view provider) {
  // A NUL cannot occur in either, so the pair reads back one way only.
  std::string context(tenant_id);
  context += '\0';
  context += provider;
  return context;
}

stored_credential put_credential(transaction& tx, std::string_view tenant_id,
                                 std::string_view provider, const base::sealed_value& sealed) {
  const auto r = tx.exec(
      "INSERT INTO provider_credentials (tenant_id, provider, key_id, nonce, ciphertext) "
      "VALUES ($1::uuid, $2, $3, $4, $5) "
      "ON CONFLICT (tenant_id, provider) DO UPDATE SET key_id = EXCLUDED.key_id, "
      "nonce = EXCLUDED.nonce, ciphertext = EXCLUDED.ciphertext, updated_at = now() "
      "RETURNING " +
          std::string(columns),
      {tenant_id, provider, sealed.key_id, bytes(sealed.nonce), bytes(sealed.ciphertext)});
  return from_row(r, 0);
}

bool delete_credential(transaction& tx, std::string_view provider) {
  return tx.exec("DELETE FROM provider_credentials WHERE provider = $1", {provider}).affected() > 0;
}

std::vector<stored_credential> list_credentials(transaction& tx) {
  const auto r =
      tx.exec("SELECT " + std::string(columns) + " FROM provider_credentials ORDER BY provider");
  std::vector<stored_credential> out;
  for (int i = 0; i < r.rows(); ++i) out.push_back(from_row(r, i));
  return out;
}

void reseal_credential(transaction& tx, std::string_view provider,
                       const base::sealed_value& sealed) {
  tx.exec(
      "UPDATE provider_credentials SET key_id = $2, nonce = $3, ciphertext = $4 "
      "WHERE provider = $1",
      {provider, sealed.key_id, bytes(sealed.nonce), bytes(sealed.ciphertext)});
}

}  // namespace parley::store
