#include "llm/extractive_provider.hpp"

#include <algorithm>
#include <set>

#include "rag/text.hpp"

namespace parley::llm {

namespace {

// At most this many passages are quoted, and this many sentences of each.
constexpr std::size_t max_passages = 3;
constexpr std::size_t max_sentences = 2;

// Paragraphs are separated by blank lines; list items and headings are paragraphs
// of their own. Line breaks inside a paragraph are only wrapping.
std::vector<std::string> paragraphs(std::string_view text) {
  std::vector<std::string> out;
  std::string current;
  const auto flush = [&] {
    if (!current.empty()) out.push_back(std::move(current));
    current.clear();
  };
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const auto nl = std::min(text.find('\n', pos), text.size());
    auto line = text.substr(pos, nl - pos);
    const auto first = line.find_first_not_of(" \t");
    line = first == std::string_view::npos ? std::string_view{} : line.substr(first);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r')) {
      line.remove_suffix(1);
    }
    if (line.empty() || line.starts_with("- ") || line.starts_with("* ")) flush();
    if (!line.empty()) {
      if (!current.empty()) current += ' ';
      current += line;
    }
    pos = nl + 1;
  }
  flush();
  return out;
}

// Sentences end at ". ", "! " or "? " inside a paragraph, and at its end.
std::vector<std::string> sentences(std::string_view text) {
  std::vector<std::string> out;
  for (const auto& para : paragraphs(text)) {
    std::size_t start = 0;
    for (std::size_t i = 0; i < para.size(); ++i) {
      const char c = para[i];
      if ((c == '.' || c == '!' || c == '?') && i + 1 < para.size() && para[i + 1] == ' ') {
        out.push_back(para.substr(start, i + 1 - start));
        start = i + 2;
      }
    }
    if (start < para.size()) out.push_back(para.substr(start));
  }
  return out;
}

// Headings and labels ("Vacation days") match questions well but say nothing.
bool is_statement(std::string_view sentence) {
  return sentence.ends_with('.') || sentence.ends_with('!') || sentence.ends_with('?') ||
         rag::count_tokens(sentence) >= 8;
}

std::size_t overlap(std::string_view sentence, const std::set<std::string>& question_terms) {
  std::set<std::string> seen;
  for (auto& t : rag::terms(sentence)) {
    if (question_terms.contains(t)) seen.insert(std::move(t));
  }
  return seen.size();
}

// The passage's best sentences in their original order, and how well the best matched.
std::pair<std::string, std::size_t> quote(std::string_view text,
                                          const std::set<std::string>& question_terms) {
  auto all = sentences(text);
  if (std::any_of(all.begin(), all.end(), is_statement)) {
    std::erase_if(all, [](const std::string& x) { return !is_statement(x); });
  }
  std::vector<std::pair<std::size_t, std::size_t>> scored;  // (score, position)
  for (std::size_t i = 0; i < all.size(); ++i)
    scored.emplace_back(overlap(all[i], question_terms), i);
  std::stable_sort(scored.begin(), scored.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  if (scored.empty()) return {"", 0};
  const auto best = scored.front().first;
  std::vector<std::size_t> picked;
  for (const auto& [score, pos] : scored) {
    if (picked.size() == max_sentences || (score == 0 && !picked.empty())) break;
    picked.push_back(pos);
  }
  std::sort(picked.begin(), picked.end());
  std::string out;
  for (const auto pos : picked) {
    if (!out.empty()) out += ' ';
    out += all[pos];
  }
  return {out, best};
}

// Word-sized pieces that concatenate back to `text`: each word with the
// whitespace that follows it.
std::vector<std::string> pieces(std::string_view text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find_first_of(" \n", start);
    end = end == std::string_view::npos ? text.size() : text.find_first_not_of(" \n", end);
    if (end == std::string_view::npos) end = text.size();
    out.emplace_back(text.substr(start, end - start));
    start = end;
  }
  return out;
}

class extractive_generation final : public generation {
 public:
  extractive_generation(std::vector<std::string> pieces, std::string finish_reason, usage u)
      : pieces_(std::move(pieces)), finish_reason_(std::move(finish_reason)), usage_(u) {}

  asio::awaitable<std::optional<event>> next(std::chrono::milliseconds /*max_wait*/) override {
    if (cancelled_) co_return error_event{failure_kind::cancelled, "cancelled"};
    if (next_ < pieces_.size()) co_return token_event{pieces_[next_++]};
    co_return done_event{finish_reason_, usage_};
  }

  void cancel() override { cancelled_ = true; }

 private:
  std::vector<std::string> pieces_;
  std::string finish_reason_;
  std::size_t next_ = 0;
  usage usage_;
  bool cancelled_ = false;
};

}  // namespace

std::string extractive_answer(std::string_view question,
                              const std::vector<source_passage>& sources) {
  const auto q = rag::terms(question);
  const std::set<std::string> question_terms(q.begin(), q.end());
  std::string answer;
  std::size_t first_score = 0;
  for (std::size_t i = 0; i < sources.size() && i < max_passages; ++i) {
    const auto [text, score] = quote(sources[i].text, question_terms);
    if (i == 0) first_score = score;
    // The best passage is always quoted; the others only where they match the
    // question nearly as well (two thirds of the best) on at least two terms.
    if (text.empty() || (i > 0 && (score < 2 || score * 3 < first_score * 2))) continue;
    if (!answer.empty()) answer += "\n\n";
    answer += text + " [" + std::to_string(i + 1) + "]";
  }
  return answer;
}

std::unique_ptr<generation> extractive_provider::start(generation_request request,
                                                       asio::any_io_executor /*consumer*/) {
  const auto answer = extractive_answer(request.question, request.sources);
  auto parts = pieces(answer);
  std::string finish_reason = "stop";
  // One piece stands for one token, so max_tokens cuts the answer like a model's.
  if (request.max_tokens && parts.size() > static_cast<std::size_t>(*request.max_tokens)) {
    parts.resize(static_cast<std::size_t>(*request.max_tokens));
    finish_reason = "length";
  }
  const usage u{estimate_prompt_tokens(request.messages), static_cast<std::int64_t>(parts.size())};
  return std::make_unique<extractive_generation>(std::move(parts), std::move(finish_reason), u);
}

}  // namespace parley::llm
