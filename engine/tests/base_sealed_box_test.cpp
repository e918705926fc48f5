// AES-256-GCM against NIST's published answers, and the key ring around it.

#include <gtest/gtest.h>

#include <string>

#include "base/sealed_box.hpp"

namespace parley::base {
namespace {

std::string unhex(std::string_view hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
  }
  return out;
}

// The GCM specification's test cases 13 and 14 (256-bit key of zeros, nonce of zeros).
TEST(SealedBox, AesGcmKnownAnswers) {
  const std::string key(32, '\0');
  const std::string nonce(12, '\0');
  EXPECT_EQ(aes256gcm_encrypt(key, nonce, "", ""), unhex("530f8afbc74536b9a963b4f1c4cb738b"));
  EXPECT_EQ(aes256gcm_encrypt(key, nonce, std::string(16, '\0'), ""),
            unhex("cea7403d4d606b6e074ec5d3baf39d18d0d1c8a799996bf0265b98b5d48ab919"));
  EXPECT_EQ(aes256gcm_decrypt(
                key, nonce,
                unhex("cea7403d4d606b6e074ec5d3baf39d18d0d1c8a799996bf0265b98b5d48ab919"), ""),
            std::string(16, '\0'));
}

const master_key old_key{"k1", std::string(32, 'a')};
const master_key new_key{"k2", std::string(32, 'b')};

TEST(SealedBox, OpensWhatItSealedInTheSameContextOnly) {
  const sealed_box box({old_key}, "test");
  const auto v = box.seal("sk-tenant-secret", "tenant-1/openai");
  EXPECT_EQ(v.key_id, "k1");
  EXPECT_EQ(v.nonce.size(), 12u);
  EXPECT_EQ(v.ciphertext.find("sk-tenant-secret"), std::string::npos);
  EXPECT_EQ(box.open(v, "tenant-1/openai"), "sk-tenant-secret");
  EXPECT_EQ(box.open(v, "tenant-2/openai"), std::nullopt);
  auto altered = v;
  altered.ciphertext[0] ^= 1;
  EXPECT_EQ(box.open(altered, "tenant-1/openai"), std::nullopt);
  EXPECT_NE(box.seal("sk-tenant-secret", "tenant-1/openai").nonce, v.nonce);
}

TEST(SealedBox, ThePurposeSeparatesKeysDerivedFromOneRing) {
  const sealed_box credentials({old_key}, "credentials");
  const sealed_box other({old_key}, "other");
  EXPECT_EQ(other.open(credentials.seal("x", "c"), "c"), std::nullopt);
}

TEST(SealedBox, AGrownRingSealsWithItsNewestKeyAndStillOpensTheOld) {
  sealed_box box({old_key}, "test");
  const auto before = box.seal("secret", "c");
  box.replace({old_key, new_key});
  EXPECT_EQ(box.current_key_id(), "k2");
  EXPECT_EQ(box.open(before, "c"), "secret");
  const auto after = box.seal("secret", "c");
  EXPECT_EQ(after.key_id, "k2");
  box.replace({new_key});
  EXPECT_EQ(box.open(before, "c"), std::nullopt);  // its key left the ring
  EXPECT_EQ(box.open(after, "c"), "secret");
}

TEST(SealedBox, AnEmptyRingSealsNothing) {
  const sealed_box box({}, "test");
  EXPECT_FALSE(box.usable());
  EXPECT_EQ(box.current_key_id(), "");
  EXPECT_THROW(box.seal("x", "c"), std::logic_error);
}

}  // namespace
}  // namespace parley::base
