#include "rag/citation.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "rag/citation_json.hpp"

namespace parley::rag {
namespace {

TEST(RagCitation, SnippetsCutAtWordsAndCharacters) {
  EXPECT_EQ(snippet_of("short"), "short");
  const std::string text = "alpha beta gamma delta epsilon";
  EXPECT_EQ(snippet_of(text, 14), "alpha beta\u2026");
  const std::string umlauts = "ääääääääää";  // 2 bytes each: never cut inside one
  const auto s = snippet_of(umlauts, 5);
  EXPECT_EQ(s, "ää\u2026");
}

TEST(RagCitation, CitationsFollowPassageOrder) {
  rag::retrieved_passage p1;
  p1.document_id = "d1";
  p1.title = "One";
  p1.ordinal = 3;
  p1.score = 0.5;
  p1.content = "first";
  auto p2 = p1;
  p2.document_id = "d2";
  const auto cs = citations_for({p1, p2});
  ASSERT_EQ(cs.size(), 2U);
  EXPECT_EQ(cs[0].index, 1);
  EXPECT_EQ(cs[0].chunk, 3);
  EXPECT_EQ(cs[1].index, 2);
  EXPECT_EQ(cs[1].document_id, "d2");
}

TEST(RagCitation, JsonShapeIsTheWireShape) {
  const std::vector<citation> cs{
      {1, "doc-1", "Time off", "handbook/time-off.md", 0, "Leave", 0, 0.0328,
       "New employees get twenty days."},
      {2, "doc-2", "Manual", "manual.pdf", 4, "", 12, 0.01, "Page twelve."}};
  EXPECT_EQ(citations_json(cs), nlohmann::json::parse(R"([{"index":1,"document_id":"doc-1",
    "title":"Time off","source_uri":"handbook/time-off.md","chunk":0,"section":"Leave",
    "page":null,"score":0.0328,"snippet":"New employees get twenty days."},
    {"index":2,"document_id":"doc-2","title":"Manual","source_uri":"manual.pdf","chunk":4,
    "section":"","page":12,"score":0.01,"snippet":"Page twelve."}])"));
}

}  // namespace
}  // namespace parley::rag
