// The frame page: its CSP (nonce, frame-ancestors), fresh nonces, and a page whose
// every inline script and style carries the nonce while tenant texts stay text.

#include <gtest/gtest.h>

#include <regex>
#include <set>

#include "widget/frame.hpp"

namespace parley::widget {
namespace {

TEST(FrameCsp, AllowsOnlyNoncedInlineCodeAndTheTenantsOrigins) {
  EXPECT_EQ(
      frame_csp("abc", {"https://a.example", "https://b.example:8443"}),
      "default-src 'none'; script-src 'nonce-abc'; style-src 'nonce-abc'; connect-src 'self'; "
      "frame-ancestors https://a.example https://b.example:8443");
}

TEST(FrameCsp, NoOriginsMeansNobodyMayEmbed) {
  EXPECT_EQ(frame_csp("n0", {}),
            "default-src 'none'; script-src 'nonce-n0'; style-src 'nonce-n0'; connect-src 'self'; "
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

TEST(FramePage, EveryInlineScriptAndStyleCarriesTheNonce) {
  const auto page = render_frame("N0NCE", {"Support", "Hello!"});
  const std::regex tag("<(script|style)\\b[^>]*>");
  int tags = 0;
  for (auto it = std::sregex_iterator(page.begin(), page.end(), tag); it != std::sregex_iterator();
       ++it) {
    ++tags;
    EXPECT_NE(it->str().find("nonce=\"N0NCE\""), std::string::npos) << it->str();
  }
  EXPECT_GE(tags, 2);
  EXPECT_EQ(page.find("{{"), std::string::npos);
  EXPECT_NE(page.find("Hello!"), std::string::npos);
}

TEST(FramePage, TenantTextsAreEscaped) {
  const auto page = render_frame("N", {"<script>alert(1)</script>", "\"{{nonce}}\" & 'x'"});
  EXPECT_EQ(page.find("<script>alert(1)"), std::string::npos);
  EXPECT_NE(page.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(page.find("&quot;&#123;&#123;nonce}}&quot; &amp; &#39;x&#39;"), std::string::npos);
}

}  // namespace
}  // namespace parley::widget
