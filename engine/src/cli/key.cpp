#include <fmt/format.h>

#include <cctype>

#include "cli/command.hpp"
#include "edge/api_key.hpp"
#include "obs/log.hpp"
#include "store/db.hpp"
#include "store/key_repo.hpp"

namespace parley::cli {
namespace {

bool is_uuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash != (s[i] == '-')) return false;
    if (!dash && !std::isxdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

nlohmann::json to_json(const store::api_key_record& k) {
  return {{"id", k.id},
          {"tenant_id", k.tenant_id},
          {"prefix", k.prefix},
          {"kind", k.kind},
          {"created", k.created_unix},
          {"revoked", k.revoked_unix ? nlohmann::json(*k.revoked_unix) : nlohmann::json()}};
}

int create(const invocation& inv) {
  inv.opts.allow_only({"config", "json", "tenant", "kind"});
  const std::string slug = inv.opts.require("tenant");
  const std::string kind_text = inv.opts.get("kind").value_or("secret");
  const auto kind = edge::parse_key_kind(kind_text);
  if (!kind) throw usage_error("--kind must be secret or publishable");

  const auto cfg = load_config(inv);
  store::database db(cfg.database.dsn, 1);
  const auto t = require_tenant(db, slug);
  const auto generated = edge::generate_key(*kind);
  const auto record = db.with_platform([&](store::transaction& tx) {
    return store::insert_key(tx, t.id, generated.prefix, generated.hash, edge::to_string(*kind));
  });
  obs::info("key_created", {{"tenant_id", t.id}, {"key_id", record.id}, {"prefix", record.prefix},
                            {"kind", record.kind}});
  auto data = to_json(record);
  data["key"] = generated.key;
  inv.out.result(data, fmt::format("{}\nkey id {} (prefix {}) for tenant {}: store it now, it is not shown again",
                                   generated.key, record.id, record.prefix, t.slug));
  return 0;
}

int revoke(const invocation& inv) {
  inv.opts.allow_only({"config", "json", "key-id", "prefix"});
  const auto id = inv.opts.get("key-id");
  const auto prefix = inv.opts.get("prefix");
  if (id.has_value() == prefix.has_value()) throw usage_error("give exactly one of --key-id or --prefix");
  if (id && !is_uuid(*id)) throw usage_error("--key-id must be a key's UUID");

  const auto cfg = load_config(inv);
  store::database db(cfg.database.dsn, 1);
  const auto record = db.with_platform([&](store::transaction& tx) {
    return id ? store::revoke_key_by_id(tx, *id) : store::revoke_key_by_prefix(tx, *prefix);
  });
  if (!record) throw command_error("key_not_found", "no such key");
  obs::info("key_revoked", {{"tenant_id", record->tenant_id}, {"key_id", record->id}});
  inv.out.result(to_json(*record), fmt::format("revoked key {} (prefix {}); the edge forgets it within its cache TTL",
                                               record->id, record->prefix));
  return 0;
}

}  // namespace

int key(const invocation& inv) {
  const auto& verb = inv.opts.positional();
  if (verb.size() == 1 && verb[0] == "create") return create(inv);
  if (verb.size() == 1 && verb[0] == "revoke") return revoke(inv);
  throw usage_error("expected 'key create' or 'key revoke'");
}

}  // namespace parley::cli
