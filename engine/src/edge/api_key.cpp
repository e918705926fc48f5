#include "edge/api_key.hpp"

#include <algorithm>

#include "base/crypto.hpp"

namespace parley::edge {
namespace {

constexpr std::size_t prefix_len = 12;
constexpr std::size_t secret_len = 43;
constexpr std::size_t secret_bytes = 32;

std::string_view tag(key_kind kind) noexcept { return kind == key_kind::secret ? "sk_" : "pk_"; }

bool lower_alnum(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

bool base64url_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

// Rejection sampling keeps the 36 symbols uniformly likely.
std::string random_prefix() {
  static constexpr char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string out;
  while (out.size() < prefix_len) {
    for (unsigned char b : base::random_bytes(prefix_len * 2)) {
      if (b >= 252) continue;  // 252 = 7 * 36
      out += alphabet[b % 36];
      if (out.size() == prefix_len) break;
    }
  }
  return out;
}

}  // namespace

std::string_view to_string(key_kind kind) noexcept {
  return kind == key_kind::secret ? "secret" : "publishable";
}

std::optional<key_kind> parse_key_kind(std::string_view text) noexcept {
  if (text == "secret") return key_kind::secret;
  if (text == "publishable") return key_kind::publishable;
  return std::nullopt;
}

generated_key generate_key(key_kind kind) {
  generated_key out;
  out.prefix = random_prefix();
  out.key =
      std::string(tag(kind)) + out.prefix + "_" + base::base64url(base::random_bytes(secret_bytes));
  out.hash = base::sha256_hex(out.key);
  return out;
}

bool is_well_formed_key(std::string_view key, key_kind kind) noexcept {
  if (key.size() != 3 + prefix_len + 1 + secret_len || !key.starts_with(tag(kind))) return false;
  const auto prefix = key.substr(3, prefix_len);
  const auto secret = key.substr(3 + prefix_len + 1);
  return key[3 + prefix_len] == '_' && std::ranges::all_of(prefix, lower_alnum) &&
         std::ranges::all_of(secret, base64url_char);
}

bool is_key_hash(std::string_view text) noexcept {
  return text.size() == 64 && std::ranges::all_of(text, [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

}  // namespace parley::edge
