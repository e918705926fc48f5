#pragma once

// Secrets stored in the database (tenants' provider credentials), sealed with
// AES-256-GCM under a ring of master keys. Each sealed value names the key that sealed
// it, so the ring can grow: new values are sealed with its newest key, older ones open
// with theirs until they are sealed again (`parley rotate-master-key`).
//
// The AES key is not the ring's secret itself but HMAC-SHA256(secret, purpose): one
// master ring can then seal different kinds of secret without their keys ever meeting.
// The caller's `context` (e.g. tenant id and provider) is authenticated with the
// value, so a sealed value copied to another row does not open there.
//
// Thread-safe: every seal() and open() reads the ring current at that moment, and
// replace() swaps it (SIGHUP).

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace parley::base {

struct master_key {
  std::string id;      // names the key in what it seals
  std::string secret;  // raw bytes, at least 32
};

struct sealed_value {
  std::string key_id;
  std::string nonce;       // 12 random bytes
  std::string ciphertext;  // the encrypted bytes followed by the 16-byte GCM tag
};

// AES-256-GCM with a 32-byte key and a 12-byte nonce: the ciphertext followed by the
// 16-byte tag; open nothing when the tag does not match.
std::string aes256gcm_encrypt(std::string_view key, std::string_view nonce,
                              std::string_view plaintext, std::string_view aad);
std::optional<std::string> aes256gcm_decrypt(std::string_view key, std::string_view nonce,
                                             std::string_view sealed, std::string_view aad);

class sealed_box {
 public:
  // `purpose` separates what this box seals from anything else the ring seals.
  sealed_box(std::vector<master_key> ring, std::string purpose);

  // False while the ring is empty: nothing can be sealed or opened.
  bool usable() const;

  // The newest key's id; empty while the ring is empty.
  std::string current_key_id() const;

  // Seals with the newest key; throws std::logic_error while the ring is empty.
  sealed_value seal(std::string_view plaintext, std::string_view context) const;

  // The plaintext, or nothing when the key is not in the ring or the value (or its
  // context) was altered.
  std::optional<std::string> open(const sealed_value& value, std::string_view context) const;

  void replace(std::vector<master_key> ring);

 private:
  struct derived_key {
    std::string id;
    std::string aes_key;  // 32 bytes
  };
  using ring_ptr = std::shared_ptr<const std::vector<derived_key>>;

  ring_ptr ring() const;
  ring_ptr derive(const std::vector<master_key>& ring) const;

  std::string purpose_;
  mutable std::mutex mutex_;
  ring_ptr ring_;
};

}  // namespace parley::base
