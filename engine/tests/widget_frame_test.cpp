// The frame page: its CSP (nonce, frame-ancestors), fresh nonces, and a page whose
// every inline script and style carries the nonce while tenant texts stay text.

#include <gtest/gtest.h>

#include <regex>
#include <set>

#include "widget/assets.hpp"
#include "widget/frame.hpp"

namespace parley::widget {
namespace {

TEST(FrameCsp, AllowsOnlyNoncedInlineCodeAndTheTenantsOrigins) {
  EXPECT_EQ(frame_csp("abc", {"https://a.example", "https://b.example:8443"}),
            "default-src 'none'; script-src 'nonce-abc'; style-src 'nonce-abc'; connect-src "
            "'self'; img-src 'self' data:; "
            "frame-ancestors https://a.example https://b.example:8443");
}

TEST(FrameCsp, NoOriginsMeansNobodyMayEmbed) {
  EXPECT_EQ(frame_csp("n0", {}),
            "default-src 'none'; script-src 'nonce-n0'; style-src 'nonce-n0'; connect-src 'self'; "
            "img-src 'self' data:; "
            "frame-ancestors 'none'");
}

TEST(FrameNonce, IsFreshUnpaddedBase64urlOfAtLeast16Bytes) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    const auto n = make_nonce();
    EXPECT_GE(n.size(), 22u);  // 16 bytes need 22 base64 characters
    EXPECT_TRUE(std::regex_match(n, std::regex("[A-Za-z0-9_-]+"))) << n;
    seen.insert(n);
  }
  EXPECT_EQ(seen.size(), 100u);
}

TEST(FramePage, EveryScriptAndStylesheetCarriesTheNonce) {
  const auto page = render_frame("N0NCE", {"Support", "Hello!", "tick.et.sig"});
  const std::regex tag("<(script|style|link)\\b[^>]*>");
  std::set<std::string> kinds;
  for (auto it = std::sregex_iterator(page.begin(), page.end(), tag); it != std::sregex_iterator();
       ++it) {
    kinds.insert((*it)[1].str());
    EXPECT_NE(it->str().find("nonce=\"N0NCE\""), std::string::npos) << it->str();
  }
  EXPECT_TRUE(kinds.contains("script") && kinds.contains("link"));
  EXPECT_EQ(page.find("{{"), std::string::npos);
  EXPECT_NE(page.find("Hello!"), std::string::npos);
  EXPECT_NE(page.find("data-ticket=\"tick.et.sig\""), std::string::npos);
}

TEST(FramePage, LoadsTheCurrentVersionsOfItsAssets) {
  const auto page = render_frame("N", {"Support", "", ""});
  EXPECT_NE(page.find(asset_url("frame.js")), std::string::npos);
  EXPECT_NE(page.find(asset_url("frame.css")), std::string::npos);
  EXPECT_NE(asset_url("frame.js").find("?v="), std::string::npos);
}

TEST(FramePage, TenantTextsAreEscaped) {
  const auto page = render_frame("N", {"<script>alert(1)</script>", "\"{{nonce}}\" & 'x'", ""});
  EXPECT_EQ(page.find("<script>alert(1)"), std::string::npos);
  EXPECT_NE(page.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(page.find("&quot;&#123;&#123;nonce}}&quot; &amp; &#39;x&#39;"), std::string::npos);
}

}  // namespace
}  // namespace parley::widget
