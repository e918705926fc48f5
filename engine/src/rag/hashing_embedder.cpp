#include "rag/hashing_embedder.hpp"

#include <cmath>
#include <cstdint>
#include <stdexcept>

#include "rag/text.hpp"

namespace parley::rag {

namespace {

// Whole words dominate; trigrams add sub-word similarity (inflections, typos).
constexpr float word_weight = 1.0F;
constexpr float trigram_weight = 0.35F;

std::uint64_t hash64(std::string_view bytes) noexcept {
  std::uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a 64
  for (const char c : bytes) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  // splitmix64 finaliser: FNV's low bits are weak, and we use them for the index.
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebULL;
  h ^= h >> 31;
  return h;
}

}  // namespace

hashing_embedder::hashing_embedder(std::size_t dimensions)
    : dimensions_(dimensions), model_("hashing-v2-" + std::to_string(dimensions)) {
  if (dimensions == 0) throw std::invalid_argument("embedding dimensions must be positive");
}

void hashing_embedder::add_feature(std::span<float> v, std::string_view feature,
                                   float weight) const {
  const auto h = hash64(feature);
  const auto index = static_cast<std::size_t>((h >> 1) % dimensions_);
  v[index] += (h & 1U) != 0 ? weight : -weight;
}

std::vector<float> hashing_embedder::embed(std::string_view text) const {
  std::vector<float> v(dimensions_, 0.0F);
  std::string feature;
  for (const auto& term : terms(text)) {
    feature.assign("w:").append(term);
    add_feature(v, feature, word_weight);
    // Trigrams over "<term>" so that word starts and ends are features too. Bytes,
    // not code points: a split multi-byte character still hashes consistently.
    const std::string padded = "<" + term + ">";
    for (std::size_t i = 0; i + 3 <= padded.size(); ++i) {
      feature.assign("g:").append(padded, i, 3);
      add_feature(v, feature, trigram_weight);
    }
  }
  double norm = 0;
  for (const float x : v) norm += static_cast<double>(x) * x;
  if (norm > 0) {
    const auto inv = static_cast<float>(1.0 / std::sqrt(norm));
    for (float& x : v) x *= inv;
  }
  return v;
}

}  // namespace parley::rag
