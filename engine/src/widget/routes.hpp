#pragma once

// The widget's engine routes (SPEC 4.1 "Widget"):
//   POST /widget/v1/session   edge/public context; a session and its token, from
//                             {"ticket"} (the frame page's), or X-Parley-Site-Key +
//                             Origin (a tenant's own page); with {"resume"} the
//                             previous conversation continues while it is live, and
//                             {"resume"} alone renews the token
//   GET  /widget/v1/frame     edge/public context; ?site_key=pk_...&origin=<page>
//                             -> the hosted page with a per-response CSP nonce, that
//                             origin as its only frame ancestor, and a ticket
//   GET  /widget/v1/history   widget context -> the session's messages, while the
//                             session is live (widget/session_guard.hpp)

#include <memory>

#include "config/config.hpp"
#include "http/router.hpp"
#include "widget/signing_key.hpp"

namespace parley::store {
class database;
}

namespace parley::widget {

struct settings {
  std::string issuer;
  std::int64_t token_ttl_s = 600;
  std::int64_t resume_ttl_s = 86400;
  std::shared_ptr<const signing_key> signer;  // shared with serve's SIGHUP handler
};

settings make_settings(const config::widget_config& cfg, std::shared_ptr<const signing_key> signer);

void add_widget_routes(http::router& routes, store::database& db, settings s);

}  // namespace parley::widget
