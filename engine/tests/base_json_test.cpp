// JSON text from untrusted strings.

#include <gtest/gtest.h>

#include "base/json.hpp"

namespace parley::base {
namespace {

TEST(DumpJson, InvalidUtf8IsReplacedNotThrown) {
  EXPECT_EQ(dump_json(nlohmann::json(std::string("\xc3"))), "\"\xef\xbf\xbd\"");
  EXPECT_EQ(dump_json({{"a", std::string("ok \xff")}}), "{\"a\":\"ok \xef\xbf\xbd\"}");
}

}  // namespace
}  // namespace parley::base
