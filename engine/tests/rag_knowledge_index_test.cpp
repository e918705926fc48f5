#include "rag/knowledge_index.hpp"
#include "rag/hashing_embedder.hpp"

#include <gtest/gtest.h>

#include <array>
#include <stdexcept>
#include <string>
#include <string_view>

namespace parley::rag {
namespace {

corpus_chunk embedded(const hashing_embedder& e, std::string id, std::string doc,
                      std::string text) {
  auto v = e.embed(text);
  return {std::move(id), std::move(doc), 0, std::move(text), e.model(), std::move(v), {}, 0};
}

embedding_space space_of(const hashing_embedder& e) {
  return {"hashing", e.model(), e.dimensions()};
}

// The query embedded as the engine embeds it for this index: by its own embedder.
std::vector<retrieved_passage> search(const knowledge_index& index, std::string_view agent,
                                      std::string_view query, const retrieval_options& options) {
  return index.search(agent, query, hashing_embedder(index.space().dimensions).embed(query),
                      options);
}

class RagKnowledgeIndex : public ::testing::Test {
 protected:
  hashing_embedder embedder_{384};

  corpus make_corpus() {
    corpus c;
    c.documents = {{"d-refunds", "Refund policy", "refunds.md"},
                   {"d-bakery", "Bakery", "bakery.md"},
                   {"d-secret", "Other agent", "secret.md"}};
    c.chunks = {
        embedded(embedder_, "c1", "d-refunds",
                 "Launch reservations are refundable up to 90 days before the launch window."),
        embedded(embedder_, "c2", "d-refunds",
                 "Refund requests go to billing with the reservation number ACR-550192."),
        embedded(embedder_, "c3", "d-bakery", "Sourdough bread is baked every morning."),
        embedded(embedder_, "c4", "d-secret", "The refund password is swordfish."),
    };
    c.assignments = {
        {"agent-support", "d-refunds"}, {"agent-support", "d-bakery"}, {"agent-other", "d-secret"}};
    return c;
  }
};

TEST_F(RagKnowledgeIndex, FindsRelevantPassagesWithTheirDocument) {
  const knowledge_index index(make_corpus(), space_of(embedder_));
  const auto hits = search(index, "agent-support", "How do I get a refund for my reservation?", {});
  ASSERT_FALSE(hits.empty());
  EXPECT_EQ(hits[0].document_id, "d-refunds");
  EXPECT_EQ(hits[0].title, "Refund policy");
  EXPECT_EQ(hits[0].source_uri, "refunds.md");
  for (std::size_t i = 1; i < hits.size(); ++i) EXPECT_GE(hits[i - 1].score, hits[i].score);
}

TEST_F(RagKnowledgeIndex, AHeadingCountsForItsChunkAndTravelsWithIt) {
  auto c = make_corpus();
  auto pets = embedded(embedder_, "c5", "d-bakery", "Basil may visit on Fridays.");
  pets.heading = "Office rules \u203a Parrots";
  pets.page = 4;
  c.chunks.push_back(pets);
  const knowledge_index index(std::move(c), space_of(embedder_));
  const auto hits = search(index, "agent-support", "Which parrots may visit?", {});
  ASSERT_FALSE(hits.empty());
  EXPECT_EQ(hits[0].chunk_id, "c5");
  EXPECT_EQ(hits[0].heading, "Office rules \u203a Parrots");
  EXPECT_EQ(hits[0].page, 4);
  EXPECT_EQ(hits[0].lexical_rank, 1U);
  EXPECT_GE(hits[0].vector_rank, 1U);
}

TEST_F(RagKnowledgeIndex, ReportsWhereEachPassageRankedBeforeFusion) {
  const knowledge_index index(make_corpus(), space_of(embedder_));
  const auto hits = search(index, "agent-support", "refund reservation number", {});
  ASSERT_GE(hits.size(), 2U);
  for (const auto& h : hits) {
    // a passage is in the result because at least one ranking placed it
    EXPECT_TRUE(h.lexical_rank > 0 || h.vector_rank > 0) << h.chunk_id;
    EXPECT_EQ(h.lexical_rank > 0, h.bm25 > 0) << h.chunk_id;
  }
}

TEST_F(RagKnowledgeIndex, OnlyTheAgentsEnabledDocuments) {
  const knowledge_index index(make_corpus(), space_of(embedder_));
  for (const auto& h : search(index, "agent-support", "refund password", {})) {
    EXPECT_NE(h.document_id, "d-secret");
  }
  const auto other = search(index, "agent-other", "refund password", {});
  ASSERT_EQ(other.size(), 1U);
  EXPECT_EQ(other[0].chunk_id, "c4");
  EXPECT_TRUE(search(index, "agent-without-documents", "refund", {}).empty());
}

TEST_F(RagKnowledgeIndex, RelevanceGateDropsUnrelatedChunks) {
  const knowledge_index index(make_corpus(), space_of(embedder_));
  // No shared term and low cosine: nothing passes, so the agent will refuse.
  EXPECT_TRUE(search(index, "agent-support", "What is the capital of France?", {}).empty());
  // Only stopwords: no term to match on.
  EXPECT_TRUE(search(index, "agent-support", "What is it?", {}).empty());
  // A shared term passes even when the whole-text cosine is low.
  const auto hits = search(index, "agent-support", "sourdough", {});
  ASSERT_EQ(hits.size(), 1U);
  EXPECT_EQ(hits[0].chunk_id, "c3");
  EXPECT_GT(hits[0].bm25, 0.0F);
}

TEST_F(RagKnowledgeIndex, TopKLimitsTheResult) {
  const knowledge_index index(make_corpus(), space_of(embedder_));
  retrieval_options one;
  one.top_k = 1;
  EXPECT_EQ(search(index, "agent-support", "refund reservation launch", one).size(), 1U);
}

TEST_F(RagKnowledgeIndex, ADocumentsTitleMatchesEachOfItsChunks) {
  const knowledge_index index(make_corpus(), space_of(embedder_));
  // "policy" is only in the title of d-refunds, not in its chunks' text.
  const auto hits = search(index, "agent-support", "policy", {});
  ASSERT_EQ(hits.size(), 2U);
  for (const auto& h : hits) {
    EXPECT_EQ(h.document_id, "d-refunds");
    EXPECT_GT(h.bm25, 0.0F);
  }
}

TEST_F(RagKnowledgeIndex, FusionWeightsDecideWhichRankingLeads) {
  // BM25 weighs the rare "zebra" up (c-rare leads); the cosine has no IDF and
  // favours the short c-short, nearly all of it the query's "common".
  corpus c;
  c.documents = {{"d", "", ""}};
  c.chunks = {
      embedded(embedder_, "c-rare", "d", "zebra alpha beta gamma delta epsilon zeta eta theta"),
      embedded(embedder_, "c-short", "d", "common"),
      embedded(embedder_, "c-f1", "d", "common filler sentence number one"),
      embedded(embedder_, "c-f2", "d", "common filler sentence number two"),
      embedded(embedder_, "c-f3", "d", "common filler sentence number three"),
  };
  c.assignments = {{"a", "d"}};
  const knowledge_index index(std::move(c), space_of(embedder_));
  retrieval_options lexical;
  lexical.fusion = {.k = 1, .lexical_weight = 1, .vector_weight = 0.2};
  retrieval_options vector = lexical;
  vector.fusion = {.k = 1, .lexical_weight = 0.2, .vector_weight = 1};
  const auto by_lexical = search(index, "a", "zebra common", lexical);
  const auto by_vector = search(index, "a", "zebra common", vector);
  ASSERT_FALSE(by_lexical.empty());
  ASSERT_FALSE(by_vector.empty());
  EXPECT_EQ(by_lexical[0].chunk_id, "c-rare");
  EXPECT_EQ(by_vector[0].chunk_id, "c-short");
}

TEST_F(RagKnowledgeIndex, OtherEmbeddingModelsAreNeverComparedByVector) {
  auto c = make_corpus();
  c.chunks[2].embedding_model = "some-other-model";  // the bakery chunk
  const knowledge_index index(std::move(c), space_of(embedder_));
  EXPECT_EQ(index.chunk_count(), 4U);
  EXPECT_EQ(index.embedded_count(), 3U);
  // Still found lexically, with no cosine.
  const auto hits = search(index, "agent-support", "sourdough bread", {});
  ASSERT_EQ(hits.size(), 1U);
  EXPECT_EQ(hits[0].chunk_id, "c3");
  EXPECT_EQ(hits[0].cosine, 0.0F);
}

// Enough chunks that HNSW walks its graph rather than scoring a few rows exactly.
corpus with_filler(corpus c, const hashing_embedder& e) {
  static constexpr std::array<std::string_view, 12> words{"oven",   "flour", "crust",  "yeast",
                                                          "butter", "rye",   "almond", "sugar",
                                                          "proof",  "knead", "dough",  "loaf"};
  for (std::size_t i = 0; i < 3000; ++i) {
    std::string text;
    for (std::size_t w = 0; w < 8; ++w) {
      text += std::string(words[(i * 7 + w * w * 3 + i / 12) % words.size()]) + " ";
    }
    text += "batch " + std::to_string(i);
    c.chunks.push_back(embedded(e, "f" + std::to_string(i), "d-bakery", text));
  }
  return c;
}

TEST_F(RagKnowledgeIndex, HnswFindsWhatExactFinds) {
  vector_index_options hnsw;
  hnsw.hnsw = true;
  const knowledge_index exact(with_filler(make_corpus(), embedder_), space_of(embedder_));
  const knowledge_index approximate(with_filler(make_corpus(), embedder_), space_of(embedder_),
                                    hnsw);
  EXPECT_FALSE(exact.uses_hnsw());
  EXPECT_TRUE(approximate.uses_hnsw());
  EXPECT_EQ(approximate.embedded_count(), exact.embedded_count());
  EXPECT_GT(approximate.memory_bytes(), exact.memory_bytes());
  for (const auto* query : {"How do I get a refund for my reservation?", "sourdough bread",
                            "rye dough proof batch 1234", "almond butter crust", "launch window"}) {
    const auto want = search(exact, "agent-support", query, {});
    const auto got = search(approximate, "agent-support", query, {});
    ASSERT_FALSE(want.empty()) << query;
    ASSERT_FALSE(got.empty()) << query;
    EXPECT_EQ(got[0].chunk_id, want[0].chunk_id) << query;
    EXPECT_FLOAT_EQ(got[0].cosine, want[0].cosine) << query;
  }
  // The agent's documents still bound what HNSW returns.
  for (const auto& h : search(approximate, "agent-support", "refund password", {})) {
    EXPECT_NE(h.document_id, "d-secret");
  }
  const auto other = search(approximate, "agent-other", "refund password", {});
  ASSERT_EQ(other.size(), 1U);
  EXPECT_EQ(other[0].chunk_id, "c4");
}

TEST_F(RagKnowledgeIndex, HnswOnATinyCorpus) {
  vector_index_options hnsw;
  hnsw.hnsw = true;
  const knowledge_index index(make_corpus(), space_of(embedder_), hnsw);
  const auto hits = search(index, "agent-support", "How do I get a refund for my reservation?", {});
  ASSERT_FALSE(hits.empty());
  EXPECT_EQ(hits[0].document_id, "d-refunds");
  EXPECT_TRUE(search(index, "agent-support", "What is the capital of France?", {}).empty());
}

TEST(RagKnowledgeIndexSpace, AQueryVectorOfAnotherLengthIsRefused) {
  const hashing_embedder e(64);
  corpus c;
  c.documents = {{"d", "Doc", "doc.md"}};
  c.chunks = {{"c", "d", 0, "rockets", e.model(), e.embed("rockets"), {}, 0}};
  c.assignments = {{"a", "d"}};
  const knowledge_index index(std::move(c), space_of(e));
  EXPECT_THROW(index.search("a", "rockets", hashing_embedder(32).embed("rockets"), {}),
               std::invalid_argument);
  EXPECT_EQ(index.search("a", "rockets", e.embed("rockets"), {}).size(), 1u);
}

}  // namespace
}  // namespace parley::rag
