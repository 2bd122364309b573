#include "sys/log.h"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
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

TEST(LogFormatTest, Parses) {
  LogFormat format = LogFormat::kText;
  EXPECT_TRUE(ParseLogFormat("json", &format));
  EXPECT_EQ(format, LogFormat::kJson);
  EXPECT_TRUE(ParseLogFormat("TEXT", &format));
  EXPECT_EQ(format, LogFormat::kText);
  EXPECT_FALSE(ParseLogFormat("yaml", &format));
}

// JSON lines: one object per line with time, level, source and msg; a
// message with a newline or bytes that are not UTF-8 still gives exactly
// one parseable line.
TEST(LogFormatTest, JsonLinesParseOnePerLine) {
  SetLogFormat(LogFormat::kJson);
  std::string out = CaptureStderr([] {
    PSB_LOG(kWarning, "pod=%s", "web\nforged");
    PSB_LOG(kInfo, "bytes %s", std::string("\xff\xfe ok", 5));
    PSB_LOG_FIELDS(kError, {{"rpc", "Version"}, {"code", "OK"}});
  });
  SetLogFormat(LogFormat::kText);
  std::vector<std::string> lines = absl::StrSplit(out, '\n', absl::SkipEmpty());
  ASSERT_THAT(lines, SizeIs(3)) << out;
  nlohmann::json first = nlohmann::json::parse(lines[0], nullptr, false);
  ASSERT_FALSE(first.is_discarded()) << lines[0];
  EXPECT_EQ(first["level"], "warning");
  EXPECT_THAT(first["source"].get<std::string>(), HasSubstr("log_test.cc:"));
  EXPECT_EQ(first["msg"], "pod=web\\nforged");
  EXPECT_THAT(first["time"].get<std::string>(), EndsWith("Z"));
  EXPECT_FALSE(nlohmann::json::parse(lines[1], nullptr, false).is_discarded())
      << lines[1];
  nlohmann::json fields = nlohmann::json::parse(lines[2], nullptr, false);
  EXPECT_EQ(fields["level"], "error");
  EXPECT_EQ(fields["rpc"], "Version");
  EXPECT_EQ(fields["code"], "OK");
  EXPECT_FALSE(fields.contains("msg"));
}

TEST(LogFormatTest, FieldsInTextReadAsKeyValuePairs) {
  std::string out = CaptureStderr([] {
    PSB_LOG_FIELDS(kInfo, {{"rpc", "Version"}, {"code", "OK"}});
  });
  EXPECT_THAT(out, HasSubstr("] rpc=Version code=OK\n"));
}

}  // namespace
}  // namespace podsandbox::sys
