#include "rag/hashing_embedder.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <stdexcept>

namespace parley::rag {
namespace {

float dot(const std::vector<float>& a, const std::vector<float>& b) {
  return std::inner_product(a.begin(), a.end(), b.begin(), 0.0F);
}

TEST(RagHashingEmbedder, ModelNameCarriesTheDimensions) {
  const hashing_embedder e(384);
  EXPECT_EQ(e.model(), "hashing-v2-384");
  EXPECT_EQ(e.embed("refund policy").size(), 384U);
}

TEST(RagHashingEmbedder, IsDeterministicAcrossInstances) {
  const auto a = hashing_embedder(384).embed("Launch reservations are refundable");
  const auto b = hashing_embedder(384).embed("Launch reservations are refundable");
  EXPECT_EQ(a, b);
}

TEST(RagHashingEmbedder, StableAcrossBuilds) {
  // Stored embeddings must stay comparable with new queries: the hash is pinned.
  const std::vector<float> expected{0.0F, 0.265716F, -0.759190F, 0.0F,
                                    0.0F, 0.0F,      0.265716F,  -0.531433F};
  const auto v = hashing_embedder(8).embed("REFUND");  // case-insensitive too
  ASSERT_EQ(v.size(), expected.size());
  for (std::size_t i = 0; i < v.size(); ++i) EXPECT_NEAR(v[i], expected[i], 1e-5F) << i;
}

TEST(RagHashingEmbedder, IsUnitLength) {
  const hashing_embedder e(384);
  for (const char* text : {"a b c refund", "The quick brown fox jumps over the lazy dog.",
                           "Ünïcödé wörds and numbers 123"}) {
    EXPECT_NEAR(dot(e.embed(text), e.embed(text)), 1.0F, 1e-5F) << text;
  }
}

TEST(RagHashingEmbedder, TextWithoutTermsIsTheZeroVector) {
  const auto v = hashing_embedder(384).embed("Who are you?");
  EXPECT_TRUE(std::all_of(v.begin(), v.end(), [](float x) { return x == 0.0F; }));
}

TEST(RagHashingEmbedder, SimilarTextsAreCloser) {
  const hashing_embedder e(384);
  const auto query = e.embed("how do I get a refund for my reservation");
  const auto related = e.embed("Launch reservations are refundable up to 90 days before launch.");
  const auto unrelated = e.embed("Sourdough loaves are baked every morning at the bakery.");
  EXPECT_GT(dot(query, related), dot(query, unrelated) + 0.1F);
  // Sub-word features: inflections are neighbours, unrelated words are not.
  EXPECT_GT(dot(e.embed("refunds"), e.embed("refund")),
            dot(e.embed("refunds"), e.embed("bakery")) + 0.25F);
}

TEST(RagHashingEmbedder, EmbedsTheStemsOfWords) {
  // rag::terms stems, so inflections of one word are one vector.
  const hashing_embedder e(384);
  EXPECT_EQ(e.embed("Refunds processed"), e.embed("refund processing"));
}

TEST(RagHashingEmbedder, TheModelNameCarriesTheDimensions) {
  EXPECT_EQ(hashing_embedder(384).model(), "hashing-v2-384");
}

}  // namespace
}  // namespace parley::rag
