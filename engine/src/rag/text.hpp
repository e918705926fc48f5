#pragma once

// Text primitives shared by chunking, lexical ranking, embedding and the relevance
// gate, so that all of them agree on what a "word" is.
//
// A token is a word or a single punctuation character. The tokenizer is
// Unicode-aware enough for a knowledge base, not a full UAX #29 implementation:
// it decodes UTF-8, treats the common Unicode space and punctuation/symbol blocks
// as separators, every other non-ASCII code point as a letter, and each CJK
// ideograph or kana as a word of its own (those scripts do not separate words with
// spaces). Lowercasing covers ASCII, Latin-1, Greek and Cyrillic capitals.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace parley::rag {

enum class token_kind : std::uint8_t { word, punct };

// A token as byte offsets into the tokenized text.
struct token {
  std::size_t begin = 0;
  std::size_t end = 0;
  token_kind kind = token_kind::word;
};

// True if `text` is well-formed UTF-8 (no overlongs, surrogates or code points
// above U+10FFFF).
bool valid_utf8(std::string_view text) noexcept;

// Splits valid UTF-8 into tokens; whitespace separates and is not a token.
// Invalid sequences are treated as punctuation, one byte each.
std::vector<token> tokenize(std::string_view text);

// tokenize(text).size(), without making the tokens.
std::size_t count_tokens(std::string_view text);

// Lowercase form of a word (see the header comment for the covered scripts).
std::string lowercase(std::string_view word);

// `lowered` is an English function word that carries no topic (the Snowball
// project's English stop-word list).
bool is_stopword(std::string_view lowered) noexcept;

// The Snowball English stem of a lowercase word: "running" and "runs" are "run".
std::string stem(std::string_view lowered);

// The lowercase non-stopword words of `text`, in order.
std::vector<std::string> words(std::string_view text);

// The stems of words(text), in order: the terms that BM25 and the relevance gate
// work with.
std::vector<std::string> terms(std::string_view text);

}  // namespace parley::rag
