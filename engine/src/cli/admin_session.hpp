#pragma once

// The admin service over the configured database, for the tenant, key, agent,
// persona and credential subcommands (one pooled connection; audit actor "cli").
// Agents' providers are checked against the configured ones; credentials are sealed
// with the master key ring, read only by the commands that need it.

#include "admin/credentials.hpp"
#include "admin/service.hpp"
#include "base/sealed_box.hpp"
#include "cli/command.hpp"
#include "store/db.hpp"

namespace parley::cli {

// The providers of `llm` as the admin service checks them, with `box` (may be null).
admin::provider_catalog provider_catalog_of(const config::llm_config& llm,
                                            const base::sealed_box* box);

// The master key ring's keys as the sealed box takes them.
std::vector<base::master_key> master_keys_of(const std::vector<config::ring_key>& ring);

class admin_session {
 public:
  enum class keys { unread, read };

  // With keys::read, the master key ring (llm.master_keys_file) is read: a ring with
  // problems is a config_error, an unset one leaves credentials unavailable.
  explicit admin_session(const invocation& inv, keys master_keys = keys::unread);

  admin::service* operator->() noexcept { return &service_; }
  admin::credential_admin& credentials() noexcept { return credentials_; }

 private:
  config::config cfg_;
  store::database db_;
  base::sealed_box box_;
  admin::provider_catalog catalog_;
  admin::service service_;
  admin::credential_admin credentials_;
};

}  // namespace parley::cli
