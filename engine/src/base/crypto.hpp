#pragma once

// The few OpenSSL primitives the engine needs, as plain functions.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace parley::base {

// Lowercase hex SHA-256 of `data` (64 chars).
std::string sha256_hex(std::string_view data);

// Raw 32-byte HMAC-SHA256.
std::string hmac_sha256(std::string_view key, std::string_view data);

// base64url without padding.
std::string base64url(std::string_view bytes);

// The bytes of canonical unpadded base64url `text` (what base64url() makes), or
// nothing for any other text.
std::optional<std::string> base64url_decode(std::string_view text);

// The bytes of standard base64 `text` (RFC 4648 alphabet, padded; line breaks
// allowed, as MIME writes them), or nothing when it is not base64.
std::optional<std::string> base64_decode(std::string_view text);

// Cryptographically random bytes; throws std::runtime_error if the CSPRNG fails.
std::string random_bytes(std::size_t count);

// A random (version 4) UUID in its canonical text form: ids the engine hands out
// before the row that carries them is written.
std::string random_uuid();

// Equal length and equal bytes, in time independent of where they differ.
bool constant_time_equal(std::string_view a, std::string_view b) noexcept;

}  // namespace parley::base
