#include "rag/citation.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <memory>
#include <string>

#include "rag/citation_json.hpp"
#include "rag/hashing_embedder.hpp"

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

// The passages as a search returns them, from an index that only the citations
// hold once the search is done (as a streaming answer's do).
TEST(RagCitation, CitationsFollowPassageOrderAndOutliveTheSearch) {
  const hashing_embedder embedder(64);
  corpus c;
  c.documents = {{"d1", "Refunds", "refunds.md"}, {"d2", "Shipping", "shipping.md"}};
  const auto chunk = [&](std::string id, std::string doc, int ordinal, std::string text) {
    auto v = embedder.embed(text);
    return corpus_chunk{std::move(id),    std::move(doc), ordinal, std::move(text),
                        embedder.model(), std::move(v),   {},      0};
  };
  c.chunks = {chunk("c1", "d1", 3, "Refunds are paid within five days of the return."),
              chunk("c2", "d2", 0, "Refunds for shipping costs are not paid.")};
  c.chunks[0].heading = "Returns";
  c.chunks[0].page = 2;
  c.assignments = {{"agent", "d1"}, {"agent", "d2"}};
  auto index = std::make_shared<const knowledge_index>(
      std::move(c), embedding_space{"hashing", embedder.model(), embedder.dimensions()});
  const std::string query = "when are refunds paid";
  const auto passages = index->search("agent", query, embedder.embed(query), {});
  ASSERT_EQ(passages.size(), 2U);

  const cited_passages cited(std::move(index), passages);
  const auto cs = cited.citations();
  ASSERT_EQ(cs.size(), 2U);
  for (std::size_t i = 0; i < cs.size(); ++i) {
    EXPECT_EQ(cs[i].index, static_cast<int>(i + 1));
    EXPECT_EQ(cs[i].document_id, passages[i].document_id);
    EXPECT_EQ(cs[i].title, passages[i].title);
    EXPECT_EQ(cs[i].chunk, passages[i].ordinal);
    EXPECT_EQ(cs[i].section, passages[i].heading);
    EXPECT_EQ(cs[i].page, passages[i].page);
    EXPECT_EQ(cs[i].score, passages[i].score);
    EXPECT_EQ(cs[i].snippet, passages[i].content);
  }
  EXPECT_EQ(cs[0].document_id == "d1" ? cs[0].source_uri : cs[1].source_uri, "refunds.md");
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
