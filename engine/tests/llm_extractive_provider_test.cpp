#include "llm/extractive_provider.hpp"

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

namespace parley::llm {
namespace {

const std::vector<source_passage> sources{
    {"Time off",
     "Time off\n\nNew employees get twenty vacation days per year. Unused days carry over "
     "until March. Sick leave is separate."},
    {"Expenses", "Meals are reimbursed up to 40 euros per day. Keep every receipt."},
    {"Vacation requests", "Vacation requests go through the HR portal at least two weeks ahead."},
    {"First days", "Vacation days for new employees start on the first day. Welcome!"},
};

TEST(LlmExtractive, QuotesTheBestSentencesWithCitationMarkers) {
  const auto answer = extractive_answer("How many vacation days do new employees get?", sources);
  // [1]: its two best sentences (the heading is skipped); [2] matches nothing;
  // [3] matches one term only; [4] would match, but only three passages are read.
  EXPECT_EQ(
      answer,
      "New employees get twenty vacation days per year. Unused days carry over until March. [1]");
}

TEST(LlmExtractive, OnlyTheThreeBestPassagesAreConsidered) {
  auto many = sources;
  many.erase(many.begin() + 1);  // now [3] is the "First days" passage
  const auto answer = extractive_answer("How many vacation days do new employees get?", many);
  EXPECT_EQ(
      answer,
      "New employees get twenty vacation days per year. Unused days carry over until March. [1]"
      "\n\n"
      "Vacation days for new employees start on the first day. [3]");
}

TEST(LlmExtractive, WrappedLinesAreOneSentence) {
  const auto answer = extractive_answer(
      "vacation days", {{"Leave",
                         "## Vacation days\n\nNew employees receive 20 paid vacation days\n"
                         "per calendar year, accrued monthly.\n- Carry-over: five days."}});
  EXPECT_EQ(answer,
            "New employees receive 20 paid vacation days per calendar year, accrued monthly. "
            "- Carry-over: five days. [1]");
}

TEST(LlmExtractive, TheBestPassageIsAlwaysQuoted) {
  // No sentence shares a term: the first passage (retrieval's best) still answers.
  const auto answer =
      extractive_answer("zzz", {{"Expenses", "Meals are reimbursed. Keep receipts."}});
  EXPECT_EQ(answer, "Meals are reimbursed. [1]");
}

std::vector<event> run(generation& g) {
  asio::io_context io;
  auto f = asio::co_spawn(
      io,
      [&]() -> asio::awaitable<std::vector<event>> {
        std::vector<event> out;
        for (;;) {
          auto e = co_await g.next(std::chrono::seconds(1));
          EXPECT_TRUE(e.has_value());  // never waits: the answer is ready
          if (!e) co_return out;
          out.push_back(std::move(*e));
          if (!std::holds_alternative<token_event>(out.back())) co_return out;
        }
      },
      asio::use_future);
  io.run();
  return f.get();
}

generation_request request(std::optional<std::int64_t> max_tokens = std::nullopt) {
  generation_request r;
  r.messages = {{role::system, "Answer from the context."}, {role::user, "vacation days?"}};
  r.model = "extractive";
  r.max_tokens = max_tokens;
  r.question = "vacation days?";
  r.sources = sources;
  return r;
}

TEST(LlmExtractive, StreamsWordSizedPiecesThenUsage) {
  extractive_provider p;
  asio::io_context io;
  auto g = p.start(request(), io.get_executor());
  const auto events = run(*g);
  ASSERT_GT(events.size(), 5U);
  std::string text;
  for (std::size_t i = 0; i + 1 < events.size(); ++i) {
    const auto& t = std::get<token_event>(events[i]).text;
    EXPECT_LE(t.size(), 20U) << t;
    text += t;
  }
  EXPECT_EQ(text, extractive_answer("vacation days?", sources));
  const auto& done = std::get<done_event>(events.back());
  EXPECT_EQ(done.finish_reason, "stop");
  ASSERT_TRUE(done.usage);
  EXPECT_EQ(done.usage->completion_tokens, static_cast<std::int64_t>(events.size() - 1));
  EXPECT_EQ(done.usage->prompt_tokens, estimate_prompt_tokens(request().messages));
}

TEST(LlmExtractive, MaxTokensCutsTheAnswer) {
  extractive_provider p;
  asio::io_context io;
  auto g = p.start(request(3), io.get_executor());
  const auto events = run(*g);
  ASSERT_EQ(events.size(), 4U);
  EXPECT_EQ(std::get<done_event>(events.back()).finish_reason, "length");
}

TEST(LlmExtractive, CancelEndsTheStream) {
  extractive_provider p;
  asio::io_context io;
  auto g = p.start(request(), io.get_executor());
  g->cancel();
  const auto events = run(*g);
  ASSERT_EQ(events.size(), 1U);
  EXPECT_TRUE(std::holds_alternative<error_event>(events[0]));
}

}  // namespace
}  // namespace parley::llm
