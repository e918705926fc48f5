#include "base/sealed_box.hpp"

#include <openssl/evp.h>

#include <climits>
#include <stdexcept>

#include "base/crypto.hpp"

namespace parley::base {
namespace {

constexpr std::size_t nonce_bytes = 12;
constexpr std::size_t tag_bytes = 16;

using cipher_ctx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

const unsigned char* bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

unsigned char* bytes(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }

int length(std::string_view s) {
  if (s.size() > static_cast<std::size_t>(INT_MAX) / 2) throw std::length_error("value too long");
  return static_cast<int>(s.size());
}

cipher_ctx new_context() {
  cipher_ctx ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  if (!ctx) throw std::runtime_error("EVP_CIPHER_CTX_new failed");
  return ctx;
}

}  // namespace

std::string aes256gcm_encrypt(std::string_view key, std::string_view nonce,
                              std::string_view plaintext, std::string_view aad) {
  const auto ctx = new_context();
  std::string out(plaintext.size() + tag_bytes, '\0');
  int n = 0;
  int tail = 0;
  if (EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, bytes(key), bytes(nonce)) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &n, bytes(aad), length(aad)) != 1 ||
      EVP_EncryptUpdate(ctx.get(), bytes(out), &n, bytes(plaintext), length(plaintext)) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), bytes(out) + n, &tail) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, tag_bytes,
                          bytes(out) + plaintext.size()) != 1) {
    throw std::runtime_error("AES-256-GCM encryption failed");
  }
  return out;
}

std::optional<std::string> aes256gcm_decrypt(std::string_view key, std::string_view nonce,
                                             std::string_view sealed, std::string_view aad) {
  if (nonce.size() != nonce_bytes || sealed.size() < tag_bytes) return std::nullopt;
  const auto body = sealed.substr(0, sealed.size() - tag_bytes);
  std::string tag(sealed.substr(body.size()));
  const auto ctx = new_context();
  std::string out(body.size(), '\0');
  int n = 0;
  int tail = 0;
  if (EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, bytes(key), bytes(nonce)) != 1 ||
      EVP_DecryptUpdate(ctx.get(), nullptr, &n, bytes(aad), length(aad)) != 1 ||
      EVP_DecryptUpdate(ctx.get(), bytes(out), &n, bytes(body), length(body)) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, tag_bytes, tag.data()) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), bytes(out) + n, &tail) != 1) {
    return std::nullopt;  // a wrong key, or altered bytes: the tag does not match
  }
  return out;
}

sealed_box::sealed_box(std::vector<master_key> ring, std::string purpose)
    : purpose_(std::move(purpose)), ring_(derive(ring)) {}

bool sealed_box::usable() const { return !ring()->empty(); }

std::string sealed_box::current_key_id() const {
  const auto r = ring();
  return r->empty() ? std::string() : r->back().id;
}

sealed_value sealed_box::seal(std::string_view plaintext, std::string_view context) const {
  const auto r = ring();
  if (r->empty()) throw std::logic_error("no master key to seal with");
  sealed_value v{r->back().id, random_bytes(nonce_bytes), {}};
  v.ciphertext = aes256gcm_encrypt(r->back().aes_key, v.nonce, plaintext, context);
  return v;
}

std::optional<std::string> sealed_box::open(const sealed_value& value,
                                            std::string_view context) const {
  for (const auto& key : *ring()) {
    if (key.id == value.key_id)
      return aes256gcm_decrypt(key.aes_key, value.nonce, value.ciphertext, context);
  }
  return std::nullopt;
}

void sealed_box::replace(std::vector<master_key> ring) {
  auto derived = derive(ring);
  std::lock_guard lock(mutex_);
  ring_ = std::move(derived);
}

sealed_box::ring_ptr sealed_box::ring() const {
  std::lock_guard lock(mutex_);
  return ring_;
}

sealed_box::ring_ptr sealed_box::derive(const std::vector<master_key>& ring) const {
  auto keys = std::make_shared<std::vector<derived_key>>();
  for (const auto& k : ring) keys->push_back({k.id, hmac_sha256(k.secret, purpose_)});
  return keys;
}

}  // namespace parley::base
