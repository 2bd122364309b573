#include "sys/subprocess.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sys/orphan_reaper.h"
#include "sys/proc.h"
#include "sys/real_sys.h"
#include "sys/testing/faulty_sys.h"
#include "sys/testing/status_matchers.h"
#include "sys/unique_fd.h"

namespace podsandbox::sys {
namespace {

using ::podsandbox::sys::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

Command Shell(const std::string& script) {
  Command c;
  c.path = "/bin/sh";
  c.args = {"sh", "-c", script};
  c.env = {"PATH=/usr/bin:/bin"};
  c.timeout = absl::Seconds(30);
  return c;
}

int CountOpenFds() {
  int n = 0;
  DIR* dir = ::opendir("/proc/self/fd");
  while (struct dirent* e = ::readdir(dir)) n += e->d_name[0] != '.';
  ::closedir(dir);
  return n;
}

bool ProcessExists(pid_t pid) {
  absl::StatusOr<ProcStat> stat = ReadProcStat(pid);
  return stat.ok() && stat->state != 'Z';
}

pid_t ParsePid(absl::string_view text) {
  pid_t pid = 0;
  EXPECT_TRUE(absl::SimpleAtoi(absl::StripAsciiWhitespace(text), &pid)) << text;
  return pid;
}

class SubprocessTest : public ::testing::Test {
 protected:
  RealSys real_;
  FaultySys sys_{real_};
};

TEST_F(SubprocessTest, CapturesStdoutStderrAndExitCode) {
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult r,
      RunSubprocess(sys_, Shell("echo out; echo err >&2; exit 3")));
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.term_signal, 0);
  EXPECT_EQ(r.stdout_data, "out\n");
  EXPECT_EQ(r.stderr_data, "err\n");
  EXPECT_FALSE(r.success());
  EXPECT_EQ(DescribeExit(r), "exit code 3");
}

// Each thread counts only its own children's time: another thread's
// subprocess leaves this thread's total unchanged.
TEST_F(SubprocessTest, SubprocessTimeIsCountedPerThread) {
  absl::Duration before = ThreadSubprocessTime();
  ASSERT_OK(RunSubprocess(sys_, Shell("exit 0")).status());
  absl::Duration mine = ThreadSubprocessTime();
  EXPECT_GT(mine, before);
  std::thread other([this] {
    EXPECT_EQ(ThreadSubprocessTime(), absl::ZeroDuration());
    EXPECT_OK(RunSubprocess(sys_, Shell("exit 0")).status());
  });
  other.join();
  EXPECT_EQ(ThreadSubprocessTime(), mine);
}

TEST_F(SubprocessTest, PassesStdinAndOnlyTheGivenEnvironment) {
  Command c = Shell("cat; env | sort");
  c.stdin_data = "hello\n";
  c.env = {"A=1", "B=two"};
  ASSERT_OK_AND_ASSIGN(SubprocessResult r, RunSubprocess(sys_, c));
  EXPECT_TRUE(r.success());
  EXPECT_EQ(r.stdout_data, "hello\nA=1\nB=two\nPWD=" +
                               std::string(get_current_dir_name()) + "\n");
}

TEST_F(SubprocessTest, StdinLargerThanADefaultPipe) {
  Command c = Shell("wc -c");
  c.stdin_data = std::string(300000, 'x');
  ASSERT_OK_AND_ASSIGN(SubprocessResult r, RunSubprocess(sys_, c));
  EXPECT_EQ(absl::StripAsciiWhitespace(r.stdout_data), "300000");
}

TEST_F(SubprocessTest, StdinOverTheLimitIsRefused) {
  Command c = Shell("true");
  c.stdin_data = std::string(kMaxStdin + 1, 'x');
  EXPECT_THAT(RunSubprocess(sys_, c),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("stdin")));
}

TEST_F(SubprocessTest, OutputIsCappedButFullyConsumed) {
  Command c = Shell("head -c 5000000 /dev/zero; echo done >&2");
  c.output_limit = 1 << 20;
  ASSERT_OK_AND_ASSIGN(SubprocessResult r, RunSubprocess(sys_, c));
  EXPECT_TRUE(r.success());
  EXPECT_TRUE(r.output_truncated);
  EXPECT_EQ(r.stdout_data.size(), 1u << 20);
  EXPECT_EQ(r.stderr_data, "done\n");
}

TEST_F(SubprocessTest, ReportsTheKillingSignal) {
  ASSERT_OK_AND_ASSIGN(SubprocessResult r,
                       RunSubprocess(sys_, Shell("kill -TERM $$")));
  EXPECT_EQ(r.term_signal, SIGTERM);
  EXPECT_EQ(DescribeExit(r), "killed by signal 15");
}

TEST_F(SubprocessTest, RelativePathIsRefused) {
  Command c = Shell("true");
  c.path = "sh";
  EXPECT_THAT(
      RunSubprocess(sys_, c),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("absolute")));
}

TEST_F(SubprocessTest, MissingBinaryIsFailedPrecondition) {
  Command c = Shell("true");
  c.path = "/nonexistent/plugin";
  EXPECT_THAT(RunSubprocess(sys_, c),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("/nonexistent/plugin")));
}

TEST_F(SubprocessTest, RetriesTextFileBusy) {
  sys_.FailNth(SysCall::kPosixSpawn, 1, ETXTBSY);
  ASSERT_OK_AND_ASSIGN(SubprocessResult r,
                       RunSubprocess(sys_, Shell("exit 0")));
  EXPECT_TRUE(r.success());
  EXPECT_EQ(sys_.count(SysCall::kPosixSpawn), 2);
}

TEST_F(SubprocessTest, OutputFileReceivesBothStreams) {
  std::string path = absl::StrCat(::testing::TempDir(), "/out.log");
  ::unlink(path.c_str());
  Command c = Shell("echo a; echo b >&2");
  c.output_file = path;
  ASSERT_OK_AND_ASSIGN(SubprocessResult r, RunSubprocess(sys_, c));
  EXPECT_TRUE(r.success());
  EXPECT_EQ(r.stdout_data, "");
  char buf[16] = {};
  FILE* f = ::fopen(path.c_str(), "r");
  ASSERT_NE(f, nullptr);
  size_t n = ::fread(buf, 1, sizeof(buf) - 1, f);
  ::fclose(f);
  EXPECT_EQ(std::string(buf, n), "a\nb\n");
}

TEST_F(SubprocessTest, CallersFdsReplaceEachStream) {
  int out[2], err[2];
  ASSERT_EQ(::pipe2(out, O_CLOEXEC), 0);
  ASSERT_EQ(::pipe2(err, O_CLOEXEC), 0);
  UniqueFd out_read(out[0]), out_write(out[1]);
  UniqueFd err_read(err[0]), err_write(err[1]);
  Command c = Shell("echo a; echo b >&2");
  c.stdout_fd = out_write.get();
  ASSERT_OK_AND_ASSIGN(SubprocessResult r, RunSubprocess(sys_, c));
  EXPECT_TRUE(r.success());
  EXPECT_EQ(r.stdout_data, "");
  EXPECT_EQ(r.stderr_data, "b\n");
  c.stdout_fd = -1;
  c.stderr_fd = err_write.get();
  ASSERT_OK_AND_ASSIGN(r, RunSubprocess(sys_, c));
  EXPECT_EQ(r.stdout_data, "a\n");
  EXPECT_EQ(r.stderr_data, "");
  char buf[16] = {};
  EXPECT_EQ(::read(out_read.get(), buf, sizeof(buf)), 2);
  EXPECT_EQ(std::string(buf, 2), "a\n");
  EXPECT_EQ(::read(err_read.get(), buf, sizeof(buf)), 2);
  EXPECT_EQ(std::string(buf, 2), "b\n");
}

// A hung program whose grandchild holds the output pipe: the deadline kills
// the whole process group, grandchild included, and returns.
TEST_F(SubprocessTest, DeadlineKillsTheWholeGroup) {
  std::string pidfile = absl::StrCat(::testing::TempDir(), "/grandchild.pid");
  Command c = Shell(absl::StrCat("sleep 1000 & echo $! > ", pidfile, "; wait"));
  c.timeout = absl::Milliseconds(500);
  EXPECT_THAT(RunSubprocess(sys_, c),
              StatusIs(absl::StatusCode::kDeadlineExceeded,
                       HasSubstr("process group was killed")));
  char buf[32] = {};
  FILE* f = ::fopen(pidfile.c_str(), "r");
  ASSERT_NE(f, nullptr);
  size_t n = ::fread(buf, 1, sizeof(buf) - 1, f);
  ::fclose(f);
  pid_t grandchild = ParsePid(std::string(buf, n));
  // Killed, and reparented to init (this test process is no subreaper), which
  // reaps it. Poll with a deadline: init reaps asynchronously.
  absl::Time until = absl::Now() + absl::Seconds(10);
  while (ProcessExists(grandchild) && absl::Now() < until) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_FALSE(ProcessExists(grandchild));
}

// The program exits but leaves a descendant holding its stdout: we return
// its exit code without waiting for the descendant, and kill it.
TEST_F(SubprocessTest, ExitedChildWithLingeringDescendantReturns) {
  Command c = Shell("sleep 1000 & echo $!; exit 0");
  ASSERT_OK_AND_ASSIGN(SubprocessResult r, RunSubprocess(sys_, c));
  EXPECT_TRUE(r.success());
  pid_t lingering = ParsePid(r.stdout_data);
  absl::Time until = absl::Now() + absl::Seconds(10);
  while (ProcessExists(lingering) && absl::Now() < until) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_FALSE(ProcessExists(lingering));
}

// An fd this process holds without O_CLOEXEC (as a library might, or
// whatever our own parent passed us) does not reach the child.
TEST_F(SubprocessTest, ChildSeesOnlyTheStandardDescriptors) {
  UniqueFd leaky(::open("/dev/null", O_RDONLY));  // no O_CLOEXEC
  ASSERT_TRUE(leaky.valid());
  ASSERT_EQ(::fcntl(leaky.get(), F_GETFD) & FD_CLOEXEC, 0);
  // ls is the shell's child: it lists the shell's descriptors, not its own
  // (it opens the directory to list it).
  ASSERT_OK_AND_ASSIGN(SubprocessResult r,
                       RunSubprocess(sys_, Shell("ls /proc/$$/fd")));
  ASSERT_TRUE(r.success()) << r.stderr_data;
  EXPECT_THAT(absl::StrSplit(r.stdout_data, '\n', absl::SkipEmpty()),
              ::testing::UnorderedElementsAre("0", "1", "2"));
}

TEST_F(SubprocessTest, FailuresLeakNoDescriptors) {
  int before = CountOpenFds();
  for (SysCall call : {SysCall::kOpen, SysCall::kPipe2, SysCall::kPosixSpawn,
                       SysCall::kPidfdOpen, SysCall::kWaitid}) {
    for (int nth = 1; nth <= 2; ++nth) {
      SCOPED_TRACE(absl::StrCat(SysCallName(call), " #", nth));
      sys_.Reset();
      sys_.FailNth(call, nth, EMFILE);
      Command c = Shell("echo hi");
      c.stdin_data = "x";
      (void)RunSubprocess(sys_, c);  // may fail or not, depending on nth
      EXPECT_EQ(CountOpenFds(), before);
    }
  }
}

// Makes two orphans that only this process can reap: a child forks them and
// exits without waiting; each exits once that child is gone, so it dies as
// our (the subreaper's) child. A shell cannot stand in for the middle
// process: dash reaps its background jobs whenever it polls for them, which
// made this test fail about one run in four.
std::vector<pid_t> MakeOrphans() {
  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0) return {};
  pid_t middle = ::fork();
  if (middle == 0) {
    // Only async-signal-safe calls from here: the test is multithreaded.
    int hold[2];
    if (::pipe(hold) != 0) ::_exit(1);
    for (int i = 0; i < 2; ++i) {
      pid_t orphan = ::fork();
      if (orphan == 0) {
        ::close(hold[1]);
        ::close(report[1]);
        char c;
        while (::read(hold[0], &c, 1) < 0 && errno == EINTR) {
        }
        ::_exit(0);  // EOF: the middle process has exited
      }
      if (::write(report[1], &orphan, sizeof(orphan)) != sizeof(orphan)) {
        ::_exit(1);
      }
    }
    ::_exit(0);
  }
  ::close(report[1]);
  std::vector<pid_t> orphans(2, 0);
  // Each pid arrives in a write of its own: read until both are in.
  char* into = reinterpret_cast<char*>(orphans.data());
  size_t want = orphans.size() * sizeof(pid_t);
  size_t got = 0;
  while (got < want) {
    ssize_t n = ::read(report[0], into + got, want - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  ::close(report[0]);
  int status;
  ::waitpid(middle, &status, 0);
  if (got != want) return {};
  return orphans;
}

TEST(OrphanReaperTest, ReapsAdoptedOrphansButNotClaimedOnes) {
  RealSys sys;
  OrphanReaper reaper(sys, absl::InfiniteDuration());
  ASSERT_OK(reaper.Start());
  std::vector<pid_t> orphans = MakeOrphans();
  ASSERT_EQ(orphans.size(), 2u);
  pid_t orphan = orphans[0];
  pid_t claimed = orphans[1];
  reaper.Claim(claimed);
  auto is_zombie_child = [](pid_t pid) {
    absl::StatusOr<ProcStat> stat = ReadProcStat(pid);
    return stat.ok() && stat->state == 'Z' && stat->ppid == ::getpid();
  };
  absl::Time until = absl::Now() + absl::Seconds(10);
  while (!(is_zombie_child(orphan) && is_zombie_child(claimed)) &&
         absl::Now() < until) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  ASSERT_TRUE(is_zombie_child(orphan));
  reaper.ScanOnce();  // first sighting: left alone
  EXPECT_TRUE(is_zombie_child(orphan));
  reaper.ScanOnce();  // second: reaped
  EXPECT_FALSE(ReadProcStat(orphan).ok());
  EXPECT_TRUE(is_zombie_child(claimed));
  reaper.Release(claimed);
  reaper.ScanOnce();
  reaper.ScanOnce();
  EXPECT_FALSE(ReadProcStat(claimed).ok());
}

}  // namespace
}  // namespace podsandbox::sys
