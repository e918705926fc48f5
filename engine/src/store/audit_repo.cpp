#include "store/audit_repo.hpp"

#include "store/db.hpp"

namespace parley::store {

void record_audit(transaction& tx, const audit_entry& e) {
  tx.exec(
      "INSERT INTO audit_log (tenant_id, actor, action, target, details) "
      "VALUES ($1::uuid, $2, $3, $4, $5::jsonb)",
      {e.tenant_id, e.actor, e.action, e.target, e.details_json});
}

}  // namespace parley::store
