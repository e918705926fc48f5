#pragma once

// The widget's engine routes (SPEC 4.1 "Widget"):
//   POST /widget/v1/session   edge/public context; X-Parley-Site-Key + Origin -> a
//                             new anonymous session (recording the key) and its token
//   GET  /widget/v1/frame     edge/public context; ?site_key=pk_... -> the hosted page
//                             with a per-response CSP nonce
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
  std::shared_ptr<const signing_key> signer;  // shared with serve's SIGHUP handler
};

settings make_settings(const config::widget_config& cfg, std::shared_ptr<const signing_key> signer);

void add_widget_routes(http::router& routes, store::database& db, settings s);

}  // namespace parley::widget
