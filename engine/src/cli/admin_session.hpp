#pragma once

// The admin service over the configured database, for the tenant, key and agent
// subcommands (one pooled connection; audit actor "cli").

#include "admin/service.hpp"
#include "cli/command.hpp"
#include "store/db.hpp"

namespace parley::cli {

class admin_session {
 public:
  explicit admin_session(const invocation& inv)
      : db_(load_config(inv).database.dsn, 1), service_(db_, {"cli", ""}) {}

  admin::service* operator->() noexcept { return &service_; }

 private:
  store::database db_;
  admin::service service_;
};

}  // namespace parley::cli
