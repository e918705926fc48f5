#include "rag/html_text.hpp"

#include <gtest/gtest.h>

#include <string>

namespace parley::rag {
namespace {

const std::string page = R"(<!DOCTYPE html>
<html><head>
  <title> Leave   policy &amp; more </title>
  <style>body { color: red }</style>
  <script>var leaked = "script text";</script>
</head><body>
  <header><a href="/">Acme intranet</a></header>
  <nav><ul><li>Home</li><li>Policies</li></ul></nav>
  <main>
    <h1>Leave policy</h1>
    <p>Every employee has   twenty
       days&nbsp;of paid leave.<br>Ask your manager.</p>
    <h2>Parental <em>leave</em></h2>
    <ul><li>Sixteen weeks</li><li><p>Paid in full</p></li></ul>
    <noscript>Enable JavaScript</noscript>
    <form><label>Search</label><input name="q"></form>
    <h3>Adoption</h3>
    <table><tr><th>Case</th><th>Weeks</th></tr><tr><td>Adoption</td><td>16</td></tr></table>
    <h2>Sick leave</h2>
    <pre>line one
  indented line</pre>
    <img src="x.png" alt="Sick leave chart">
    <svg><title>icon</title><text>svg text</text></svg>
    <template><p>template text</p></template>
    <iframe src="https://ads.example"></iframe>
  </main>
  <aside>Related: cafeteria menu</aside>
  <footer>Copyright Acme</footer>
</body></html>)";

TEST(RagHtmlText, KeepsContentAndDropsThePageFurniture) {
  const auto doc = html_document(page);
  EXPECT_EQ(doc.format, content_format::html);
  EXPECT_EQ(doc.mime_type, "text/html");
  EXPECT_EQ(doc.title, "Leave policy & more");
  std::string all;
  for (const auto& s : doc.sections) all += s.text + "\n";
  for (const char* dropped :
       {"script text", "color: red", "Acme intranet", "Home", "Enable JavaScript", "Search",
        "template text", "svg text", "icon", "cafeteria", "Copyright"}) {
    EXPECT_EQ(all.find(dropped), std::string::npos) << dropped;
  }
}

TEST(RagHtmlText, HeadingsStartSectionsWithTheirPath) {
  const auto doc = html_document(page);
  ASSERT_EQ(doc.sections.size(), 4U);
  EXPECT_EQ(doc.sections[0].heading, "Leave policy");
  EXPECT_EQ(doc.sections[0].text,
            "Leave policy\n"
            "\n"
            "Every employee has twenty days\u00A0of paid leave.\n"
            "Ask your manager.");
  EXPECT_EQ(doc.sections[1].heading, "Leave policy \u203A Parental leave");
  EXPECT_EQ(doc.sections[1].text, "Parental leave\n\n- Sixteen weeks\n\n- Paid in full");
  EXPECT_EQ(doc.sections[2].heading, "Leave policy \u203A Parental leave \u203A Adoption");
  EXPECT_EQ(doc.sections[2].text, "Adoption\n\nCase | Weeks\nAdoption | 16");
  EXPECT_EQ(doc.sections[3].heading, "Leave policy \u203A Sick leave");
  EXPECT_EQ(doc.sections[3].text,
            "Sick leave\n"
            "\n"
            "line one\n"
            "  indented line\n"
            "\n"
            "Sick leave chart");
  for (const auto& s : doc.sections) EXPECT_EQ(s.page, 0);
}

TEST(RagHtmlText, TitleFallsBackToTheFirstH1) {
  const auto doc = html_document("<h2>Intro</h2><p>a</p><h1>Main <b>title</b></h1><p>b</p>");
  EXPECT_EQ(doc.title, "Main title");
  ASSERT_EQ(doc.sections.size(), 2U);
  EXPECT_EQ(doc.sections[0].heading, "Intro");
  EXPECT_EQ(doc.sections[1].heading, "Main title");
}

TEST(RagHtmlText, TextBeforeTheFirstHeadingHasNoHeading) {
  const auto doc = html_document("<p>Welcome.</p><div>Second line</div>");
  EXPECT_EQ(doc.title, "");
  ASSERT_EQ(doc.sections.size(), 1U);
  EXPECT_EQ(doc.sections[0].heading, "");
  EXPECT_EQ(doc.sections[0].text, "Welcome.\n\nSecond line");
}

TEST(RagHtmlText, AnArticleKeepsItsOwnHeader) {
  const auto doc = html_document(
      "<header>Site banner</header><article><header><h1>Post</h1></header>"
      "<p>Body.</p><footer>Posted Monday</footer></article>");
  ASSERT_EQ(doc.sections.size(), 1U);
  EXPECT_EQ(doc.sections[0].text, "Post\n\nBody.\n\nPosted Monday");
}

TEST(RagHtmlText, TagSoupIsReadAsABrowserWould) {
  const auto doc = html_document("<p>One<p>Two &lt;three&gt; <b>bold<i>both</b> end");
  ASSERT_EQ(doc.sections.size(), 1U);
  EXPECT_EQ(doc.sections[0].text, "One\n\nTwo <three> boldboth end");
}

TEST(RagHtmlText, RefusesDeepNestingBeforeParsing) {
  std::string deep;
  for (int i = 0; i < 5000; ++i) deep += "<div/>";
  try {
    html_document(deep);
    FAIL() << "deep nesting accepted";
  } catch (const extract_error& e) {
    EXPECT_STREQ(e.what(), "the HTML is nested too deeply");
  }
  std::string wide;  // many siblings, and self-closing tags in SVG, are not deep
  for (int i = 0; i < 5000; ++i) wide += "<div>x</div><p>y";
  wide += "<svg>";
  for (int i = 0; i < 5000; ++i) wide += "<path d='M0 0'/>";
  wide += "</svg><script>if (a<b) { x = '<div>'; }</script><p>end";
  EXPECT_NO_THROW(html_document(wide));
}

}  // namespace
}  // namespace parley::rag
