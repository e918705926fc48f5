#pragma once

// The widget's hosted frame page (GET /widget/v1/frame): engine/web/frame.html,
// compiled into the binary, with a fresh CSP nonce per response. Its
// Content-Security-Policy lets only the nonce-carrying inline script and style run
// and only the tenant's own sites embed it (frame-ancestors).

#include <string>
#include <string_view>
#include <vector>

namespace parley::widget {

// 18 random bytes, base64url: unguessable, and safe in a header and an attribute.
std::string make_nonce();

// default-src 'none'; script-src 'nonce-N'; style-src 'nonce-N'; connect-src 'self';
// frame-ancestors <origins, space-separated> ('none' when there are none).
std::string frame_csp(std::string_view nonce, const std::vector<std::string>& allowed_origins);

struct frame_content {
  std::string agent_name;
  std::string greeting;
};

// The page with every {{nonce}}, {{agent_name}} and {{greeting}} filled in (the
// texts HTML-escaped).
std::string render_frame(std::string_view nonce, const frame_content& content);

}  // namespace parley::widget
