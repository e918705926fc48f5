#pragma once

// JSON text that cannot fail on untrusted strings: nlohmann's plain dump throws on
// invalid UTF-8, this one replaces it with U+FFFD. Use it for response bodies, SSE
// frames, log lines and stored metadata built from text a client or model sent.

#include <nlohmann/json.hpp>

#include <string>

namespace parley::base {

std::string dump_json(const nlohmann::json& value);

}  // namespace parley::base
