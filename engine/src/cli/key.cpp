#include <fmt/format.h>

#include "cli/admin_session.hpp"

namespace parley::cli {
namespace {

int create(const invocation& inv) {
  inv.opts.allow_only({"config", "json", "tenant", "kind"});
  const std::string slug = inv.opts.require("tenant");
  const std::string kind = inv.opts.get("kind").value_or("secret");
  const auto issued = admin_session(inv)->issue_key(slug, kind);
  auto data = admin::to_json(issued.record);
  data["key"] = issued.key;
  inv.out.result(
      data,
      fmt::format("{}\n{} key id {} (prefix {}) for tenant {}: store it now, it is not shown again",
                  issued.key, issued.record.kind, issued.record.id, issued.record.prefix, slug));
  return 0;
}

int revoke(const invocation& inv) {
  inv.opts.allow_only({"config", "json", "key-id", "prefix"});
  const auto record =
      admin_session(inv)->revoke_key({inv.opts.get("key-id"), inv.opts.get("prefix")});
  inv.out.result(admin::to_json(record),
                 fmt::format("revoked key {} (prefix {}); the edge forgets it within its cache TTL",
                             record.id, record.prefix));
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
