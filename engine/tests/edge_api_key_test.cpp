// Key generation, shape checks and the hash the edge and engine agree on.

#include <gtest/gtest.h>

#include <set>

#include "edge/api_key.hpp"
#include "edge/crypto.hpp"

namespace parley::edge {
namespace {

TEST(ApiKey, GeneratedSecretKeyHasTheContractShape) {
  const auto k = generate_key(key_kind::secret);
  ASSERT_EQ(k.key.size(), 3u + 12 + 1 + 43);
  EXPECT_TRUE(k.key.starts_with("sk_" + k.prefix + "_"));
  EXPECT_TRUE(is_well_formed_key(k.key, key_kind::secret));
  EXPECT_FALSE(is_well_formed_key(k.key, key_kind::publishable));
  EXPECT_EQ(k.hash, sha256_hex(k.key));
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

TEST(Crypto, KnownAnswers) {
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // RFC 4231 test case 2.
  EXPECT_EQ(base64url(hmac_sha256("Jefe", "what do ya want for nothing?")),
            "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM");
  EXPECT_EQ(base64url("f"), "Zg");
  EXPECT_EQ(base64url("fo"), "Zm8");
  EXPECT_EQ(base64url("foo"), "Zm9v");
  EXPECT_EQ(base64url("\xfb\xff"), "-_8");
}

TEST(Crypto, ConstantTimeEqualComparesWholeStrings) {
  EXPECT_TRUE(constant_time_equal("abc", "abc"));
  EXPECT_FALSE(constant_time_equal("abc", "abd"));
  EXPECT_FALSE(constant_time_equal("abc", "ab"));
}

}  // namespace
}  // namespace parley::edge
