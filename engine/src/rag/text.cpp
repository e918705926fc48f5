#include "rag/text.hpp"

#include <libstemmer.h>

#include <algorithm>
#include <array>
#include <memory>
#include <new>
#include <stdexcept>

namespace parley::rag {

namespace {

struct decoded {
  char32_t cp = 0;
  std::size_t len = 0;  // 0: invalid sequence at this position
};

// Decodes one UTF-8 sequence at `pos`, rejecting overlongs, surrogates and values
// above U+10FFFF.
decoded decode(std::string_view s, std::size_t pos) noexcept {
  const auto b0 = static_cast<unsigned char>(s[pos]);
  if (b0 < 0x80) return {b0, 1};
  std::size_t len = 0;
  char32_t cp = 0;
  char32_t min = 0;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2, cp = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, cp = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, cp = b0 & 0x07, min = 0x10000;
  } else {
    return {};
  }
  if (pos + len > s.size()) return {};
  for (std::size_t i = 1; i < len; ++i) {
    const auto b = static_cast<unsigned char>(s[pos + i]);
    if ((b & 0xC0) != 0x80) return {};
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return {};
  return {cp, len};
}

bool is_space(char32_t c) noexcept {
  return c == ' ' || (c >= 0x09 && c <= 0x0D) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200B) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
         c == 0x3000 || c == 0xFEFF;
}

// Punctuation and symbol blocks; everything else outside ASCII counts as a letter.
bool is_punct(char32_t c) noexcept {
  if (c < 0x80) {
    return !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'));
  }
  if (c >= 0xA1 && c <= 0xBF) return c != 0xAA && c != 0xB5 && c != 0xBA;
  return c == 0xD7 || c == 0xF7 || (c >= 0x2010 && c <= 0x2027) || (c >= 0x2030 && c <= 0x205E) ||
         (c >= 0x20A0 && c <= 0x20CF) || (c >= 0x2100 && c <= 0x2BFF) ||
         (c >= 0x3001 && c <= 0x303F) || (c >= 0xFF01 && c <= 0xFF0F) ||
         (c >= 0xFF1A && c <= 0xFF20) || (c >= 0xFF3B && c <= 0xFF40) ||
         (c >= 0xFF5B && c <= 0xFF65) || (c >= 0x1F000 && c <= 0x1FAFF);
}

// Scripts written without spaces between words: one token per character.
bool is_standalone(char32_t c) noexcept {
  return (c >= 0x3040 && c <= 0x30FF) || (c >= 0x3400 && c <= 0x4DBF) ||
         (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0xF900 && c <= 0xFAFF) ||
         (c >= 0x20000 && c <= 0x2FFFF);
}

char32_t to_lower(char32_t c) noexcept {
  if (c >= 'A' && c <= 'Z') return c + 32;
  if (c >= 0xC0 && c <= 0xDE && c != 0xD7) return c + 32;
  if (c >= 0x391 && c <= 0x3A9 && c != 0x3A2) return c + 32;
  if (c >= 0x410 && c <= 0x42F) return c + 32;
  if (c >= 0x400 && c <= 0x40F) return c + 80;
  return c;
}

void append_utf8(std::string& out, char32_t c) {
  if (c < 0x80) {
    out.push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (c >> 6)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (c >> 12)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (c >> 18)));
    out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

// The Snowball project's short English stop-word list, as PostgreSQL ships it
// (share/tsearch_data/english.stop, used by its "english" text search
// configuration with the same Snowball stemmer). Contractions are listed by the
// fragments the tokenizer leaves of them ("don't": "don", "t"). Matched before
// stemming, against the lowercase word. Sorted for binary search.
constexpr std::array<std::string_view, 127> stopwords = {
    "a",     "about",   "above",   "after",   "again",   "against", "all",        "am",    "an",
    "and",   "any",     "are",     "as",      "at",      "be",      "because",    "been",  "before",
    "being", "below",   "between", "both",    "but",     "by",      "can",        "could", "did",
    "do",    "does",    "doing",   "don",     "down",    "during",  "each",       "few",   "for",
    "from",  "further", "had",     "has",     "have",    "having",  "he",         "her",   "here",
    "hers",  "herself", "him",     "himself", "his",     "how",     "i",          "if",    "in",
    "into",  "is",      "it",      "its",     "itself",  "just",    "me",         "more",  "most",
    "my",    "myself",  "no",      "nor",     "not",     "now",     "of",         "off",   "on",
    "once",  "only",    "or",      "other",   "our",     "ours",    "ourselves",  "out",   "over",
    "own",   "s",       "same",    "she",     "should",  "so",      "some",       "such",  "t",
    "than",  "that",    "the",     "their",   "theirs",  "them",    "themselves", "then",  "there",
    "these", "they",    "this",    "those",   "through", "to",      "too",        "under", "until",
    "up",    "very",    "was",     "we",      "were",    "what",    "when",       "where", "which",
    "while", "who",     "whom",    "why",     "will",    "with",    "would",      "you",   "your",
    "yours",
};
static_assert(std::is_sorted(stopwords.begin(), stopwords.end()));

// Snowball's English stemmer (Porter2). A sb_stemmer keeps its working buffer
// inside, so it serves one thread at a time: each thread gets its own.
class english_stemmer {
 public:
  english_stemmer() : stemmer_(sb_stemmer_new("english", "UTF_8")) {
    if (!stemmer_) throw std::runtime_error("libstemmer has no English stemmer");
  }

  std::string stem(std::string_view word) {
    const auto* out =
        sb_stemmer_stem(stemmer_.get(), reinterpret_cast<const sb_symbol*>(word.data()),
                        static_cast<int>(word.size()));
    if (!out) throw std::bad_alloc();
    return {reinterpret_cast<const char*>(out),
            static_cast<std::size_t>(sb_stemmer_length(stemmer_.get()))};
  }

 private:
  struct deleter {
    void operator()(sb_stemmer* s) const noexcept { sb_stemmer_delete(s); }
  };
  std::unique_ptr<sb_stemmer, deleter> stemmer_;
};

// The one tokenizer: calls emit(token) for each token of `text`, in order.
template <class Emit>
void scan_tokens(std::string_view text, Emit emit) {
  std::size_t word_begin = 0;
  bool in_word = false;
  const auto close_word = [&](std::size_t end) {
    if (in_word) emit(token{word_begin, end, token_kind::word});
    in_word = false;
  };
  for (std::size_t pos = 0; pos < text.size();) {
    auto d = decode(text, pos);
    const bool invalid = d.len == 0;
    if (invalid) d = {0xFFFD, 1};
    if (is_space(d.cp)) {
      close_word(pos);
    } else if (invalid || is_punct(d.cp)) {
      close_word(pos);
      emit(token{pos, pos + d.len, token_kind::punct});
    } else if (is_standalone(d.cp)) {
      close_word(pos);
      emit(token{pos, pos + d.len, token_kind::word});
    } else if (!in_word) {
      in_word = true;
      word_begin = pos;
    }
    pos += d.len;
  }
  close_word(text.size());
}

}  // namespace

bool valid_utf8(std::string_view text) noexcept {
  for (std::size_t pos = 0; pos < text.size();) {
    const auto d = decode(text, pos);
    if (d.len == 0) return false;
    pos += d.len;
  }
  return true;
}

std::vector<token> tokenize(std::string_view text) {
  std::vector<token> out;
  scan_tokens(text, [&out](const token& t) { out.push_back(t); });
  return out;
}

std::size_t count_tokens(std::string_view text) {
  std::size_t n = 0;
  scan_tokens(text, [&n](const token&) { ++n; });
  return n;
}

std::string lowercase(std::string_view word) {
  std::string out;
  out.reserve(word.size());
  for (std::size_t pos = 0; pos < word.size();) {
    const auto d = decode(word, pos);
    if (d.len == 0) {
      out.push_back(word[pos++]);
      continue;
    }
    append_utf8(out, to_lower(d.cp));
    pos += d.len;
  }
  return out;
}

bool is_stopword(std::string_view lowered) noexcept {
  return std::binary_search(stopwords.begin(), stopwords.end(), lowered);
}

std::string stem(std::string_view lowered) {
  thread_local english_stemmer stemmer;
  return stemmer.stem(lowered);
}

std::vector<std::string> words(std::string_view text) {
  std::vector<std::string> out;
  for (const auto& t : tokenize(text)) {
    if (t.kind != token_kind::word) continue;
    auto lowered = lowercase(text.substr(t.begin, t.end - t.begin));
    if (!is_stopword(lowered)) out.push_back(std::move(lowered));
  }
  return out;
}

std::vector<std::string> terms(std::string_view text) {
  auto out = words(text);
  for (auto& w : out) w = stem(w);
  return out;
}

}  // namespace parley::rag
