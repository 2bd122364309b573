#include "sys/log.h"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sys/testing/capture_stderr.h"

namespace podsandbox::sys {
namespace {

using ::podsandbox::sys::testing::CaptureStderr;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::SizeIs;

TEST(LogSafeTest, EscapesControlCharactersAndBackslashes) {
  EXPECT_EQ(LogSafe("web-0"), "web-0");
  EXPECT_EQ(LogSafe("a\nb\rc\td"), "a\\nb\\rc\\td");
  EXPECT_EQ(LogSafe(std::string("a\0b\x01\x7f", 5)), "a\\x00b\\x01\\x7f");
  // A client's "\n" stays distinguishable from an escaped newline.
  EXPECT_EQ(LogSafe("a\\nb"), "a\\\\nb");
}

TEST(LogSafeTest, CapsTheLengthWithAMarker) {
  EXPECT_EQ(LogSafe(std::string(kMaxLoggedText, 'x')),
            std::string(kMaxLoggedText, 'x'));
  EXPECT_EQ(LogSafe(std::string(kMaxLoggedText + 10, 'x')),
            std::string(kMaxLoggedText, 'x') + "...(10 more bytes)");
  EXPECT_EQ(LogSafe("abcdef", 3), "abc...(3 more bytes)");
}

// A pod name with a newline cannot forge a second line, even when a caller
// forgets LogSafe: the line writer escapes control characters itself.
TEST(LogTest, ANewlineInAMessageCannotForgeASecondLine) {
  const std::string name =
      "web\n2026-01-01T00:00:00.000000 E controller_impl.cc:1] forged";
  std::string out = CaptureStderr([&] {
    PSB_LOG(kWarning, "pod=%s", name);
    PSB_LOG(kWarning, "pod=%s", LogSafe(name));
  });
  std::vector<std::string> lines = absl::StrSplit(out, '\n', absl::SkipEmpty());
  ASSERT_THAT(lines, SizeIs(2)) << out;
  for (const std::string& line : lines) {
    EXPECT_THAT(line, HasSubstr("] pod=web\\n2026-01-01T00:00:00.000000 E "
                                "controller_impl.cc:1] forged"));
    EXPECT_THAT(line, Not(HasSubstr("\r")));
  }
  EXPECT_THAT(out, EndsWith("forged\n"));
}

TEST(LogTest, AWholeMessageIsCapped) {
  std::string out = CaptureStderr(
      [] { PSB_LOG(kWarning, "%s", std::string(kMaxLogLine + 5, 'y')); });
  EXPECT_THAT(out, EndsWith(std::string(100, 'y') + "...(5 more bytes)\n"));
  std::vector<std::string> lines = absl::StrSplit(out, '\n', absl::SkipEmpty());
  EXPECT_THAT(lines, SizeIs(1));
}

}  // namespace
}  // namespace podsandbox::sys
