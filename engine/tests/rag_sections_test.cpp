#include "rag/sections.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace parley::rag {
namespace {

TEST(RagSections, LinesAreSplitWithoutTheirEnds) {
  const auto lines = split_lines("a\r\nb\n\nc");
  ASSERT_EQ(lines.size(), 4U);
  EXPECT_EQ(lines[0], "a");
  EXPECT_EQ(lines[2], "");
  EXPECT_EQ(lines[3], "c");
}

TEST(RagSections, ParagraphsKeepOneBlankLine) {
  EXPECT_EQ(join_paragraphs({"", "one  ", "two\t", "", "", "three", ""}), "one\ntwo\n\nthree");
}

TEST(RagSections, HeadingTrailClosesHeadingsOfTheSameOrDeeperLevel) {
  heading_trail trail;
  EXPECT_EQ(trail.path(), "");
  trail.enter(1, "A");
  trail.enter(3, "B");
  EXPECT_EQ(trail.path(), "A \u203A B");
  trail.enter(2, "C");
  EXPECT_EQ(trail.path(), "A \u203A C");
  trail.enter(2, "");
  EXPECT_EQ(trail.path(), "A");
  trail.enter(1, "D");
  EXPECT_EQ(trail.path(), "D");
}

TEST(RagSections, ASectionIsItsHeadingThenItsBodyAndNeedsABody) {
  std::vector<extracted_section> sections;
  add_section(sections, "A \u203A B", "B", "");
  add_section(sections, "A \u203A B", "B", "Body.");
  add_section(sections, "", "", "Intro.");
  ASSERT_EQ(sections.size(), 2U);
  EXPECT_EQ(sections[0].heading, "A \u203A B");
  EXPECT_EQ(sections[0].text, "B\n\nBody.");
  EXPECT_EQ(sections[1].text, "Intro.");
}

}  // namespace
}  // namespace parley::rag
