#pragma once

// The contract test vectors of shared/test-vectors/, as the engine's tests read them
// (the module's tests read the same files through nginx).

#include <nlohmann/json.hpp>

#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "config/key_ring.hpp"

namespace parley::test {

// shared/test-vectors/<file>, parsed.
inline nlohmann::json read_shared_vectors(std::string_view file) {
  std::ifstream in(std::string(PARLEY_SOURCE_DIR) + "/shared/test-vectors/" + std::string(file));
  return nlohmann::json::parse(in);
}

// A widget vector file's key ring ("keys": [{kid, secret}], in file order).
inline std::vector<config::ring_key> ring_of(const nlohmann::json& vectors) {
  std::vector<config::ring_key> keys;
  for (const auto& k : vectors.at("keys")) keys.push_back({k.at("kid"), k.at("secret")});
  return keys;
}

}  // namespace parley::test
