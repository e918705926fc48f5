#pragma once

// The built-in embedder: deterministic, offline, no model file. Feature hashing
// ("the hashing trick") of the terms (rag::terms: lowercase stemmed words) and of
// character trigrams of each term into a fixed number of dimensions, with a sign
// bit from the hash so that collisions cancel out on average instead of piling up,
// then L2-normalised so a dot product is a cosine. Trigrams make "refund" and
// "refundable" neighbours.
//
// The model name carries a version: v1 hashed unstemmed words, v2 hashes stems.
// Chunks stored under another name are never compared with a query's vector, so a
// change to what embed() produces must change the version.
//
// The hash is defined here (FNV-1a + a 64-bit finaliser), not std::hash, because
// stored embeddings must stay comparable across builds and machines.

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace parley::rag {

class hashing_embedder {
 public:
  explicit hashing_embedder(std::size_t dimensions);

  // Stored with every chunk; a query is only compared with chunks of the same model.
  const std::string& model() const noexcept { return model_; }
  std::size_t dimensions() const noexcept { return dimensions_; }

  // A unit vector, or all zeros for text without any term (rag::terms).
  std::vector<float> embed(std::string_view text) const;

 private:
  void add_feature(std::span<float> v, std::string_view feature, float weight) const;

  std::size_t dimensions_;
  std::string model_;
};

}  // namespace parley::rag
