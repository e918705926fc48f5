#include "widget/session_guard.hpp"

#include "edge/identity.hpp"
#include "http/api_error.hpp"
#include "store/widget_repo.hpp"

namespace parley::widget {

store::tenant_plan require_live_session(store::transaction& tx, std::string_view tenant_id,
                                        std::string_view session_id) {
  // A signed context may carry any token as its session; only UUIDs can name one.
  const auto check = edge::is_lower_uuid(session_id)
                         ? store::widget_session_status(tx, tenant_id, session_id)
                         : store::widget_session_check{};
  switch (check.state) {
    case store::widget_session_state::live: return check.plan;
    case store::widget_session_state::missing:
      throw http::api_error::not_found("session_not_found", "This widget session does not exist.");
    case store::widget_session_state::tenant_inactive:
      throw http::api_error(403, "invalid_request_error", "tenant_inactive",
                            "This site's chat is switched off; the widget session has ended.");
    case store::widget_session_state::key_revoked:
      throw http::api_error(
          401, "invalid_request_error", "session_revoked",
          "The site key that opened this widget session was revoked; the session has ended.");
  }
  throw http::api_error::internal();
}

}  // namespace parley::widget
