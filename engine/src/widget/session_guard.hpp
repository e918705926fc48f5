#pragma once

// The first step of every route a widget token reaches. The edge checks a widget
// token by its signature alone, so without this a token would keep working for up to
// 15 minutes after its tenant was deactivated or the publishable key that opened its
// session was revoked. The engine ends such sessions at their next request instead
// (fail closed).

#include <string_view>

#include "store/tenant_plan.hpp"

namespace parley::store {
class transaction;
}

namespace parley::widget {

// Throws http::api_error unless the widget session `session_id` of `tenant_id` is
// live: 404 session_not_found (no such widget session of this tenant; a session id
// that is not a UUID included), 403 tenant_inactive, 401 session_revoked (its key
// was revoked or is unknown). Call it in the tenant transaction that does the
// route's work, so that the check and the work see the same rows. Returns the
// tenant's plan, read by the same query, for the credentials the route mints.
store::tenant_plan require_live_session(store::transaction& tx, std::string_view tenant_id,
                                        std::string_view session_id);

}  // namespace parley::widget
