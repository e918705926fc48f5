#pragma once

// The widget's hosted frame page (GET /widget/v1/frame): engine/web/frame.html,
// compiled into the binary, with a fresh CSP nonce per response. Its
// Content-Security-Policy lets only the nonce-carrying scripts and styles load and
// only the embedding page's origin frame it (frame-ancestors).

#include <string>
#include <string_view>
#include <vector>

namespace parley::widget {

// 18 random bytes, base64url: unguessable, and safe in a header and an attribute.
std::string make_nonce();

// default-src 'none'; script-src 'nonce-N'; style-src 'nonce-N'; connect-src 'self';
// img-src 'self' data:; frame-ancestors <origins, space-separated> ('none' when there
// are none).
std::string frame_csp(std::string_view nonce, const std::vector<std::string>& allowed_origins);

struct frame_content {
  std::string agent_name;
  std::string greeting;
  std::string ticket;  // empty when the page names no origin: it cannot bootstrap
};

// The page with every {{nonce}}, {{agent_name}}, {{greeting}}, {{ticket}},
// {{frame_js_url}} and {{frame_css_url}} filled in (HTML-escaped).
std::string render_frame(std::string_view nonce, const frame_content& content);

}  // namespace parley::widget
