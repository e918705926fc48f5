// Subcommand option parsing: values, flags, positionals and refusals.

#include <gtest/gtest.h>

#include "cli/args.hpp"
#include "cli/output.hpp"

namespace parley::cli {
namespace {

TEST(Args, ReadsValuesFlagsAndPositionals) {
  const args a({"create", "--slug", "acme", "--name=Acme Inc", "--json", "--rpm", "-5"}, {"json"});
  EXPECT_EQ(a.positional(), std::vector<std::string>{"create"});
  EXPECT_EQ(a.get("slug"), "acme");
  EXPECT_EQ(a.get("name"), "Acme Inc");
  EXPECT_TRUE(a.flag("json"));
  EXPECT_FALSE(a.get("missing").has_value());
  EXPECT_THROW(a.get_int("rpm", 1, 100), usage_error);
  EXPECT_THROW(a.require("missing"), usage_error);
}

TEST(Args, IntegersAreRangeChecked) {
  const args a({"--rpm", "600", "--burst", "abc"}, {});
  EXPECT_EQ(a.get_int("rpm", 1, 1000), 600);
  EXPECT_THROW(a.get_int("rpm", 1, 100), usage_error);
  EXPECT_THROW(a.get_int("burst", 1, 100), usage_error);
  EXPECT_FALSE(a.get_int("absent", 1, 100).has_value());
}

TEST(Args, RepeatedOptionsKeepEveryValueInOrder) {
  const args a({"--allowed-origin", "https://a.example", "--allowed-origin=https://b.example"}, {});
  EXPECT_EQ(a.get_all("allowed-origin"),
            (std::vector<std::string>{"https://a.example", "https://b.example"}));
  EXPECT_EQ(a.get("allowed-origin"), "https://b.example");
  EXPECT_TRUE(a.get_all("absent").empty());
}

TEST(Args, UnknownOptionsAndMissingValuesAreRefused) {
  EXPECT_THROW(args({"--slug"}, {}), usage_error);
  const args a({"--slug", "x", "--colour", "red"}, {});
  EXPECT_THROW(a.allow_only({"slug"}), usage_error);
  EXPECT_NO_THROW(a.allow_only({"slug", "colour"}));
}

// Global options may come before or after the subcommand (as in kubectl).
TEST(CommandLine, GlobalOptionsBeforeTheSubcommandReachIt) {
  const auto line = split_command_line({"--config", "/etc/p.yaml", "--json", "tenant", "list"});
  EXPECT_EQ(line.command, "tenant");
  EXPECT_TRUE(line.json);
  EXPECT_FALSE(line.help);
  const args a(line.words, {"json"});
  EXPECT_EQ(a.positional(), std::vector<std::string>{"list"});
  EXPECT_EQ(a.get("config"), "/etc/p.yaml");
  EXPECT_TRUE(a.flag("json"));
  EXPECT_NO_THROW(a.allow_only({"config", "json"}));
}

TEST(CommandLine, GlobalOptionsAfterTheSubcommandStayThere) {
  const auto line = split_command_line({"tenant", "list", "--config=/etc/p.yaml", "--json"});
  EXPECT_EQ(line.command, "tenant");
  EXPECT_TRUE(line.json);
  const args a(line.words, {"json"});
  EXPECT_EQ(a.get("config"), "/etc/p.yaml");
  EXPECT_EQ(a.positional(), std::vector<std::string>{"list"});
}

TEST(CommandLine, BothPlacesMixAndTheLaterValueWins) {
  const auto line =
      split_command_line({"--config=/a.yaml", "tenant", "list", "--config", "/b.yaml"});
  const args a(line.words, {"json"});
  EXPECT_FALSE(line.json);
  EXPECT_EQ(a.get("config"), "/b.yaml");
}

TEST(CommandLine, HelpAndMissingCommands) {
  EXPECT_TRUE(split_command_line({"--help"}).help);
  EXPECT_TRUE(split_command_line({"help"}).help);
  EXPECT_TRUE(split_command_line({"--config", "x", "--help"}).help);
  const auto none = split_command_line({"--json"});
  EXPECT_TRUE(none.command.empty());
  EXPECT_FALSE(none.help);
  EXPECT_TRUE(split_command_line({}).command.empty());
}

TEST(CommandLine, OnlyGlobalOptionsMayPrecedeTheSubcommand) {
  EXPECT_THROW(split_command_line({"--slug", "acme", "tenant", "create"}), usage_error);
  EXPECT_THROW(split_command_line({"--config"}), usage_error);
  // after the subcommand, its own options are its parser's business
  const auto line = split_command_line({"tenant", "create", "--slug", "acme"});
  EXPECT_EQ(line.words, (std::vector<std::string>{"create", "--slug", "acme"}));
}

}  // namespace
}  // namespace parley::cli
