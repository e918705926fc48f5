#include "store/tenant_plan.hpp"

#include "store/db.hpp"

namespace parley::store {

tenant_plan plan_of(const result& r, int row) {
  return {r.opt_i64(row, "rate_rpm"), r.opt_i64(row, "rate_burst"), r.opt_i64(row, "max_streams")};
}

}  // namespace parley::store
