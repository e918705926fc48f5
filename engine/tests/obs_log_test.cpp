// JSON-line logging: one parseable object per line, fixed leading fields, levels,
// and invalid UTF-8 replaced instead of thrown.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <vector>

#include "config/config.hpp"
#include "obs/log.hpp"

namespace parley::obs {
namespace {

class LogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char name[] = "/tmp/parley-log-test-XXXXXX";
    const int fd = ::mkstemp(name);
    ::close(fd);
    path_ = name;
  }
  void TearDown() override {
    init(config::logging_config{});  // back to stderr at info
    std::filesystem::remove(path_);
  }

  std::vector<std::string> lines() const {
    std::ifstream in(path_);
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
  }

  void use_file(const std::string& level) {
    config::logging_config cfg;
    cfg.level = level;
    cfg.file = path_;
    init(cfg);
  }

  std::string path_;
};

TEST_F(LogTest, WritesOneJsonObjectPerLineWithLeadingFields) {
  use_file("info");
  info("request", {{"status", 200}, {"path", "/v1/models"}, {"latency_ms", 1.5}});
  const auto out = lines();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].starts_with(R"({"ts":")")) << out[0];
  EXPECT_NE(out[0].find(R"(,"level":"info","event":"request",)"), std::string::npos) << out[0];
  const auto parsed = nlohmann::json::parse(out[0]);
  EXPECT_EQ(parsed["status"], 200);
  EXPECT_EQ(parsed["path"], "/v1/models");
  EXPECT_TRUE(parsed["ts"].get<std::string>().ends_with("Z"));
}

TEST_F(LogTest, LevelsBelowTheConfiguredOneAreDropped) {
  use_file("warn");
  debug("noise");
  info("noise");
  warn("kept");
  error("kept too");
  const auto out = lines();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(nlohmann::json::parse(out[1])["level"], "error");
}

TEST_F(LogTest, InvalidUtf8IsReplacedNotThrown) {
  use_file("info");
  info("upload", {{"title", std::string("bad \xff\xfe bytes")}});
  const auto out = lines();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(nlohmann::json::accept(out[0])) << out[0];
}

TEST_F(LogTest, FieldsKeepTheirJsonTypes) {
  use_file("info");
  const std::optional<std::int64_t> none;
  const std::optional<std::int64_t> some = 42;
  const std::vector<std::string> problems{"line 1: bad", "line 2: worse"};
  const std::string raw = R"({"a":[1,2]})";
  info("typed", {{"flag", true},
                 {"big", std::uint64_t{1} << 63},
                 {"negative", -3},
                 {"missing", none},
                 {"present", some},
                 {"problems", problems},
                 {"raw", json_text{raw}}});
  const auto parsed = nlohmann::json::parse(lines().at(0));
  EXPECT_EQ(parsed["flag"], true);
  EXPECT_EQ(parsed["big"].get<std::uint64_t>(), std::uint64_t{1} << 63);
  EXPECT_EQ(parsed["negative"], -3);
  EXPECT_TRUE(parsed["missing"].is_null());
  EXPECT_EQ(parsed["present"], 42);
  EXPECT_EQ(parsed["problems"], nlohmann::json(problems));
  EXPECT_EQ(parsed["raw"]["a"], nlohmann::json::array({1, 2}));
}

TEST_F(LogTest, EventWithoutFieldsIsStillAnObject) {
  use_file("info");
  info("started");
  EXPECT_EQ(nlohmann::json::parse(lines().at(0))["event"], "started");
}

TEST_F(LogTest, UnknownLevelIsRefused) {
  config::logging_config cfg;
  cfg.level = "loud";
  EXPECT_THROW(init(cfg), std::runtime_error);
}

}  // namespace
}  // namespace parley::obs
