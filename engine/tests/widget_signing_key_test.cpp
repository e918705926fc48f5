// The engine's widget signing key: the ring's last key, replaced on reload only by a
// ring without problems.

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "widget/signing_key.hpp"

namespace parley::widget {
namespace {

const std::string secret_a(32, 'a');
const std::string secret_b(40, 'b');

class ring_file {
 public:
  ring_file() {
    char name[] = "/tmp/parley-signing-key-test-XXXXXX";
    const int fd = mkstemp(name);
    if (fd >= 0) close(fd);
    path_ = name;
  }
  ~ring_file() { std::filesystem::remove(path_); }
  void write(const std::string& text) const { std::ofstream(path_, std::ios::trunc) << text; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(SigningKey, IsTheRingsLastKey) {
  const signing_key key({{"k1", secret_a}, {"k2", secret_b}});
  ASSERT_TRUE(key.current());
  EXPECT_EQ(key.current()->kid, "k2");
  EXPECT_EQ(key.current()->secret, secret_b);
}

TEST(SigningKey, AnEmptyRingSwitchesTheWidgetOff) {
  const signing_key key({});
  EXPECT_FALSE(key.current());
}

TEST(SigningKey, ReloadSignsWithTheKeyAppendedToTheFile) {
  ring_file file;
  signing_key key({{"k1", secret_a}});
  const auto before = key.current();
  file.write("k1 " + secret_a + "\n# rotated\nk2 " + secret_b + "\n");
  EXPECT_TRUE(key.reload(file.path()).empty());
  EXPECT_EQ(key.current()->kid, "k2");
  EXPECT_EQ(before->kid, "k1");   // a request already holding the old key keeps it intact
}

TEST(SigningKey, ABadRingIsRefusedAndTheKeyInUseStays) {
  ring_file file;
  signing_key key({{"k1", secret_a}});
  file.write("k1 " + secret_a + "\nk2 tiny-secret-xyz\n");
  const auto problems = key.reload(file.path());
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("widget.keys_file: '" + file.path() + "' line 2"), std::string::npos)
      << problems[0];
  EXPECT_EQ(problems[0].find("tiny-secret-xyz"), std::string::npos);   // never quoted
  EXPECT_EQ(key.current()->kid, "k1");

  EXPECT_FALSE(key.reload("/nonexistent/widget.keys").empty());
  EXPECT_EQ(key.current()->kid, "k1");
}

}  // namespace
}  // namespace parley::widget
