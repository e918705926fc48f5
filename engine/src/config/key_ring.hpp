#pragma once

// The widget key ring (CONTRACTS "Issue 3 additions"): the file both the edge
// (parley_widget_keys) and the engine (widget.keys_file) read. One "<kid> <secret>"
// pair per line, blank lines and lines starting with '#' ignored; a kid is 1-64 of
// [A-Za-z0-9_-], a secret one field of at least 32 bytes. The LAST key is the one the
// engine mints with; the edge accepts every key, so rotation is "append a line,
// reload nginx, reload the engine (SIGHUP)" and older tokens live out their short
// lifetime.
// The rules match the module's parser exactly, so a file one side accepts the other
// accepts too.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "shared/parley_widget_token.h"

namespace parley::config {

inline constexpr std::size_t ring_secret_min = PARLEY_WIDGET_SECRET_MIN;

struct ring_key {
  std::string kid;
  std::string secret;  // raw bytes of the field, used as the HMAC key
};

struct key_ring_parse {
  std::vector<ring_key> keys;         // in file order; keys.back() is current
  std::vector<std::string> problems;  // "line N: ..." (secrets never quoted)
};

// Parses the whole file; every problem is listed, and an empty ring is one.
key_ring_parse parse_key_ring(std::string_view text);

}  // namespace parley::config
