#include "store/knowledge_repo.hpp"

#include <gtest/gtest.h>

#include "store/db.hpp"

namespace parley::store {
namespace {

TEST(StoreKnowledgeRepo, EmbeddingsAreFloat32LittleEndian) {
  const std::vector<float> v{1.0F, -2.5F, 0.0F};
  const auto bytes = encode_embedding(v);
  ASSERT_EQ(bytes.size(), 12U);
  // 1.0f = 0x3F800000, stored low byte first.
  EXPECT_EQ(bytes.substr(0, 4), std::string("\x00\x00\x80\x3F", 4));
  // -2.5f = 0xC0200000
  EXPECT_EQ(bytes.substr(4, 4), std::string("\x00\x00\x20\xC0", 4));
  EXPECT_EQ(decode_embedding(bytes), v);
}

TEST(StoreKnowledgeRepo, EmbeddingOfWrongLengthIsRefused) {
  EXPECT_THROW(decode_embedding("abc"), db_error);
  EXPECT_TRUE(decode_embedding("").empty());
}

}  // namespace
}  // namespace parley::store
