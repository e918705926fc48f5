// How a tenant's own chunking settings combine with the engine's defaults.

#include <gtest/gtest.h>

#include "knowledge/registration.hpp"

namespace parley::knowledge {
namespace {

TEST(Chunking, TheTenantsSettingsWinOverTheDefaults) {
  const chunking defaults{500, 50};
  store::knowledge_settings s;
  EXPECT_EQ(chunking_for(s, defaults).chunk_tokens, 500u);
  s.chunk_tokens = 200;
  s.chunk_overlap = 20;
  const auto c = chunking_for(s, defaults);
  EXPECT_EQ(c.chunk_tokens, 200u);
  EXPECT_EQ(c.chunk_overlap, 20u);
}

TEST(Chunking, ASmallSizeWithoutItsOwnOverlapStillCuts) {
  // A size below the default overlap: the default overlap cannot be kept.
  store::knowledge_settings s;
  s.chunk_tokens = 40;
  const auto c = chunking_for(s, {500, 50});
  EXPECT_EQ(c.chunk_tokens, 40u);
  EXPECT_LT(c.chunk_overlap, c.chunk_tokens);
}

}  // namespace
}  // namespace parley::knowledge
