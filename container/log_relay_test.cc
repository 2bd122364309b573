// The log relay with real FIFOs and files (no root needed): CRI line format,
// partial and long lines, both streams, rotation, and a relay restart that
// loses nothing while the writer never sees EPIPE.
#include "container/log_relay.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sys/file.h"
#include "sys/real_sys.h"
#include "sys/testing/status_matchers.h"
#include "sys/testing/temp_dir.h"
#include "sys/unique_fd.h"

namespace podsandbox::container {
namespace {

using ::podsandbox::sys::testing::IsOk;
using ::podsandbox::sys::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// "<stamp> stdout F text" -> "stdout F text": the stamp varies.
std::vector<std::string> Untimed(const std::string& text) {
  std::vector<std::string> out;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    size_t space = line.find(' ');
    out.push_back(std::string(line.substr(space + 1)));
  }
  return out;
}

TEST(AppendLogLinesTest, FullPartialEmptyAndLongLines) {
  absl::Time t = absl::FromUnixNanos(1700000000123456789);
  std::string out;
  AppendLogLines(t, "stdout", "one\n\ntwo", &out);
  EXPECT_EQ(out,
            "2023-11-14T22:13:20.123456789Z stdout F one\n"
            "2023-11-14T22:13:20.123456789Z stdout F \n"
            "2023-11-14T22:13:20.123456789Z stdout P two\n");
  out.clear();
  std::string long_line(kMaxLogLineBytes * 2 + 5, 'x');
  AppendLogLines(t, "stderr", long_line + "\n", &out);
  EXPECT_THAT(
      Untimed(out),
      ElementsAre(absl::StrCat("stderr P ", std::string(kMaxLogLineBytes, 'x')),
                  absl::StrCat("stderr P ", std::string(kMaxLogLineBytes, 'x')),
                  "stderr F xxxxx"));
}

class LogRelayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_THAT(MakeFifo(sys_, out_fifo_), IsOk());
    ASSERT_THAT(MakeFifo(sys_, err_fifo_), IsOk());
    // Idempotent on an existing FIFO.
    ASSERT_THAT(MakeFifo(sys_, out_fifo_), IsOk());
  }

  LogStreams Streams() { return {out_fifo_, err_fifo_, log_}; }

  // Polls until the log holds `lines` lines (never sleeps a fixed time).
  std::vector<std::string> WaitForLines(const std::string& path, size_t lines) {
    absl::Time deadline = absl::Now() + absl::Seconds(20);
    std::vector<std::string> got;
    while (absl::Now() < deadline) {
      absl::StatusOr<std::string> text = sys::ReadFile(path);
      if (text.ok()) {
        got = Untimed(*text);
        if (got.size() >= lines) return got;
      }
      absl::SleepFor(absl::Milliseconds(5));
    }
    ADD_FAILURE() << "log " << path << " has " << got.size() << " of " << lines
                  << " lines";
    return got;
  }

  void Write(int fd, absl::string_view data) {
    ASSERT_THAT(sys::WriteAll(sys_, fd, data), IsOk());
  }

  sys::RealSys sys_;
  sys::TempDir tmp_;
  std::string out_fifo_ = tmp_.Sub("stdout");
  std::string err_fifo_ = tmp_.Sub("stderr");
  std::string log_ = tmp_.Sub("0.log");
};

TEST_F(LogRelayTest, RelaysBothStreamsInCriFormat) {
  LogRelay relay(sys_);
  ASSERT_THAT(relay.Start(), IsOk());
  ASSERT_THAT(relay.Add("c1", Streams()), IsOk());
  EXPECT_THAT(relay.Add("c1", Streams()),
              StatusIs(absl::StatusCode::kAlreadyExists));
  ASSERT_OK_AND_ASSIGN(sys::UniqueFd out, OpenContainerEnd(sys_, out_fifo_));
  ASSERT_OK_AND_ASSIGN(sys::UniqueFd err, OpenContainerEnd(sys_, err_fifo_));
  Write(out.get(), "hello\n");
  EXPECT_THAT(WaitForLines(log_, 1), ElementsAre("stdout F hello"));
  Write(err.get(), "oops\n");
  EXPECT_THAT(WaitForLines(log_, 2),
              ElementsAre("stdout F hello", "stderr F oops"));
  // A write without a newline is written as a piece at once, never held.
  Write(out.get(), "no newline");
  EXPECT_THAT(
      WaitForLines(log_, 3),
      ElementsAre("stdout F hello", "stderr F oops", "stdout P no newline"));
  relay.Remove("c1");
  EXPECT_FALSE(relay.IsRelaying("c1"));
  relay.Remove("c1");  // unknown: no-op
}

TEST_F(LogRelayTest, FlushPutsWhatIsBufferedInTheFileBeforeReturning) {
  LogRelay relay(sys_);
  ASSERT_THAT(relay.Start(), IsOk());
  ASSERT_THAT(relay.Add("c1", Streams()), IsOk());
  ASSERT_OK_AND_ASSIGN(sys::UniqueFd out, OpenContainerEnd(sys_, out_fifo_));
  Write(out.get(), "last words\n");
  relay.Flush("c1");
  ASSERT_OK_AND_ASSIGN(std::string text, sys::ReadFile(log_));
  EXPECT_THAT(Untimed(text), ElementsAre("stdout F last words"));
  relay.Flush("unknown");  // no-op
}

TEST_F(LogRelayTest, ReopenWritesToANewFileAfterRotation) {
  LogRelay relay(sys_);
  ASSERT_THAT(relay.Start(), IsOk());
  ASSERT_THAT(relay.Add("c1", Streams()), IsOk());
  ASSERT_OK_AND_ASSIGN(sys::UniqueFd out, OpenContainerEnd(sys_, out_fifo_));
  Write(out.get(), "before\n");
  WaitForLines(log_, 1);
  ASSERT_EQ(::rename(log_.c_str(), tmp_.Sub("0.log.1").c_str()), 0);
  ASSERT_THAT(relay.Reopen("c1"), IsOk());
  Write(out.get(), "after\n");
  EXPECT_THAT(WaitForLines(log_, 1), ElementsAre("stdout F after"));
  ASSERT_OK_AND_ASSIGN(std::string rotated, sys::ReadFile(tmp_.Sub("0.log.1")));
  EXPECT_THAT(Untimed(rotated), ElementsAre("stdout F before"));
  EXPECT_THAT(relay.Reopen("unknown"), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(LogRelayTest, MissingFifoIsNotFoundAndNothingKept) {
  LogRelay relay(sys_);
  ASSERT_THAT(relay.Start(), IsOk());
  LogStreams streams = Streams();
  streams.stderr_fifo = tmp_.Sub("missing");
  EXPECT_THAT(relay.Add("c1", streams), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_FALSE(relay.IsRelaying("c1"));
  ASSERT_THAT(relay.Add("c1", Streams()), IsOk());
}

TEST_F(LogRelayTest, MissingLogDirIsMade) {
  LogRelay relay(sys_);
  ASSERT_THAT(relay.Start(), IsOk());
  LogStreams streams = Streams();
  streams.log_path = tmp_.Sub("c1/0.log");
  ASSERT_THAT(relay.Add("c1", streams), IsOk());
  ASSERT_OK_AND_ASSIGN(sys::UniqueFd out, OpenContainerEnd(sys_, out_fifo_));
  Write(out.get(), "kept\n");
  EXPECT_THAT(WaitForLines(streams.log_path, 1), ElementsAre("stdout F kept"));
}

TEST_F(LogRelayTest, UnopenableLogDropsOutputUntilReopenSucceeds) {
  LogRelay relay(sys_);
  ASSERT_THAT(relay.Start(), IsOk());
  LogStreams streams = Streams();
  // A file where the log's directory should be: no log can be opened.
  ASSERT_THAT(sys::WriteFileAtomically(sys_, tmp_.Sub("dir"), "", 0644, false),
              IsOk());
  streams.log_path = tmp_.Sub("dir/0.log");
  ASSERT_THAT(relay.Add("c1", streams), IsOk());
  ASSERT_OK_AND_ASSIGN(sys::UniqueFd out, OpenContainerEnd(sys_, out_fifo_));
  Write(out.get(), "dropped\n");
  relay.Flush("c1");
  ASSERT_EQ(::unlink(tmp_.Sub("dir").c_str()), 0);
  ASSERT_THAT(relay.Reopen("c1"), IsOk());
  Write(out.get(), "kept\n");
  EXPECT_THAT(WaitForLines(streams.log_path, 1), ElementsAre("stdout F kept"));
}

// The daemon's restart: the old relay goes away while the container keeps
// writing; its writes neither fail nor raise SIGPIPE (it holds its FIFO
// read-write), they wait in the pipe, and a new relay picks up every line
// in order.
TEST_F(LogRelayTest, RestartedRelayLosesNoLineAndWriterNeverSeesEpipe) {
  ASSERT_OK_AND_ASSIGN(sys::UniqueFd out, OpenContainerEnd(sys_, out_fifo_));
  {
    LogRelay first(sys_);
    ASSERT_THAT(first.Start(), IsOk());
    ASSERT_THAT(first.Add("c1", Streams()), IsOk());
    Write(out.get(), "line 0\n");
    WaitForLines(log_, 1);
  }  // the relay (its FIFO fds) is gone, as after a SIGKILL
  // Default SIGPIPE disposition: an EPIPE would kill the test.
  ASSERT_NE(::signal(SIGPIPE, SIG_DFL), SIG_ERR);
  for (int i = 1; i < 1000; ++i)
    Write(out.get(), absl::StrCat("line ", i, "\n"));
  LogRelay second(sys_);
  ASSERT_THAT(second.Start(), IsOk());
  ASSERT_THAT(second.Add("c1", Streams()), IsOk());
  std::vector<std::string> lines = WaitForLines(log_, 1000);
  ASSERT_EQ(lines.size(), 1000u);
  for (int i = 0; i < 1000; ++i) {
    EXPECT_EQ(lines[i], absl::StrCat("stdout F line ", i));
  }
}

}  // namespace
}  // namespace podsandbox::container
