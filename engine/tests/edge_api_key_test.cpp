// Key generation, shape checks and the hash the edge and engine agree on.

#include <gtest/gtest.h>

#include <set>

#include "edge/api_key.hpp"
#include "base/crypto.hpp"

namespace parley::edge {
namespace {

TEST(ApiKey, GeneratedSecretKeyHasTheContractShape) {
  const auto k = generate_key(key_kind::secret);
  ASSERT_EQ(k.key.size(), 3u + 12 + 1 + 43);
  EXPECT_TRUE(k.key.starts_with("sk_" + k.prefix + "_"));
  EXPECT_TRUE(is_well_formed_key(k.key, key_kind::secret));
  EXPECT_FALSE(is_well_formed_key(k.key, key_kind::publishable));
  EXPECT_EQ(k.hash, base::sha256_hex(k.key));
  EXPECT_TRUE(is_key_hash(k.hash));
}

TEST(ApiKey, PublishableKeysUseTheirOwnTag) {
  const auto k = generate_key(key_kind::publishable);
  EXPECT_TRUE(k.key.starts_with("pk_"));
  EXPECT_TRUE(is_well_formed_key(k.key, key_kind::publishable));
}

TEST(ApiKey, KeysAndPrefixesDoNotRepeat) {
  std::set<std::string> keys;
  std::set<std::string> prefixes;
  for (int i = 0; i < 200; ++i) {
    const auto k = generate_key(key_kind::secret);
    keys.insert(k.key);
    prefixes.insert(k.prefix);
  }
  EXPECT_EQ(keys.size(), 200u);
  EXPECT_EQ(prefixes.size(), 200u);
}

TEST(ApiKey, MalformedKeysAreRecognised) {
  const auto k = generate_key(key_kind::secret).key;
  EXPECT_FALSE(is_well_formed_key(k.substr(0, k.size() - 1), key_kind::secret));
  EXPECT_FALSE(is_well_formed_key(k + "A", key_kind::secret));
  std::string upper_prefix = k;
  upper_prefix[3] = 'A';
  EXPECT_FALSE(is_well_formed_key(upper_prefix, key_kind::secret));
  std::string bad_secret = k;
  bad_secret.back() = '+';
  EXPECT_FALSE(is_well_formed_key(bad_secret, key_kind::secret));
}

TEST(ApiKey, HashCheckWantsLowercaseHex) {
  EXPECT_TRUE(is_key_hash(std::string(64, 'a')));
  EXPECT_FALSE(is_key_hash(std::string(64, 'A')));
  EXPECT_FALSE(is_key_hash(std::string(63, 'a')));
  EXPECT_FALSE(is_key_hash(std::string(64, 'g')));
}

}  // namespace
}  // namespace parley::edge
