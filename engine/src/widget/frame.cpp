#include "widget/frame.hpp"

#include "base/crypto.hpp"
#include "widget/assets.hpp"
#include "widget/web_assets.hpp"

namespace parley::widget {
namespace {

constexpr std::size_t nonce_bytes = 18;

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      case '{': out += "&#123;"; break;  // so a value never forms a placeholder
      default: out += c;
    }
  }
  return out;
}

void replace_all(std::string& text, std::string_view placeholder, std::string_view value) {
  for (auto at = text.find(placeholder); at != std::string::npos;
       at = text.find(placeholder, at + value.size())) {
    text.replace(at, placeholder.size(), value);
  }
}

}  // namespace

std::string make_nonce() { return base::base64url(base::random_bytes(nonce_bytes)); }

std::string frame_csp(std::string_view nonce, const std::vector<std::string>& allowed_origins) {
  std::string ancestors;
  for (const auto& o : allowed_origins) ancestors += (ancestors.empty() ? "" : " ") + o;
  if (ancestors.empty()) ancestors = "'none'";
  const std::string n(nonce);
  return "default-src 'none'; script-src 'nonce-" + n + "'; style-src 'nonce-" + n +
         "'; connect-src 'self'; img-src 'self' data:; frame-ancestors " + ancestors;
}

std::string render_frame(std::string_view nonce, const frame_content& content) {
  std::string page(web_asset("frame.html"));
  replace_all(page, "{{nonce}}", nonce);
  replace_all(page, "{{agent_name}}", html_escape(content.agent_name));
  replace_all(page, "{{greeting}}", html_escape(content.greeting));
  replace_all(page, "{{ticket}}", html_escape(content.ticket));
  replace_all(page, "{{frame_js_url}}", html_escape(asset_url("frame.js")));
  replace_all(page, "{{frame_css_url}}", html_escape(asset_url("frame.css")));
  return page;
}

}  // namespace parley::widget
