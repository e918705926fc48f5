#pragma once

// API keys (CONTRACTS "Secret keys"): "sk_<prefix>_<secret>" (publishable: "pk_..."),
// prefix 12 chars [a-z0-9], secret 43 chars base64url of 32 random bytes. Only the
// prefix and the lowercase hex SHA-256 of the whole key string are stored; the edge
// hashes the presented key the same way and introspects the hash.

#include <optional>
#include <string>
#include <string_view>

namespace parley::edge {

enum class key_kind { secret, publishable };

std::string_view to_string(key_kind kind) noexcept;
std::optional<key_kind> parse_key_kind(std::string_view text) noexcept;

struct generated_key {
  std::string key;  // shown once, never stored or logged
  std::string prefix;
  std::string hash;  // sha256 hex of key
};

generated_key generate_key(key_kind kind);

// True if `key` has the exact shape of a key of that kind.
bool is_well_formed_key(std::string_view key, key_kind kind) noexcept;

// 64 lowercase hex characters (what introspection accepts).
bool is_key_hash(std::string_view text) noexcept;

}  // namespace parley::edge
