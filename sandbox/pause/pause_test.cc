// The pause binary as a process: its version, its exit on SIGTERM and
// SIGINT, and its reaping of a child it did not spawn (an orphan it adopts
// as a child subreaper, as it would as a pid namespace's init).
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "sys/file.h"
#include "sys/proc.h"
#include "sys/testing/status_matchers.h"

namespace podsandbox::sandbox::pause {
namespace {

constexpr char kPause[] = "sandbox/pause/pause";

// Polls `done` for up to 10 s.
template <typename F>
bool Eventually(F done) {
  absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (absl::Now() < deadline) {
    if (done()) return true;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return done();
}

// Whether pause `pid` is ready for SIGINT and SIGTERM: it installs their
// handlers last (a signal sent earlier would end it by the default action).
bool Ready(pid_t pid) {
  absl::StatusOr<std::string> status =
      sys::ReadFile(absl::StrCat("/proc/", pid, "/status"));
  if (!status.ok()) return false;
  for (absl::string_view line : absl::StrSplit(*status, '\n')) {
    if (!absl::ConsumePrefix(&line, "SigCgt:")) continue;
    uint64_t mask = 0;
    if (!absl::SimpleHexAtoi(absl::StripAsciiWhitespace(line), &mask)) {
      return false;
    }
    uint64_t want = (1ull << (SIGINT - 1)) | (1ull << (SIGTERM - 1));
    return (mask & want) == want;
  }
  return false;
}

pid_t SpawnPause() {
  pid_t pid = ::fork();
  if (pid == 0) {
    ::execl(kPause, kPause, nullptr);
    ::_exit(127);
  }
  return pid;
}

int WaitExit(pid_t pid) {
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid) return -1;
  return status;
}

TEST(PauseTest, PrintsItsVersion) {
  FILE* out = ::popen(absl::StrCat(kPause, " -v").c_str(), "r");
  ASSERT_NE(out, nullptr);
  char buf[128] = {};
  size_t n = std::fread(buf, 1, sizeof(buf) - 1, out);
  EXPECT_EQ(::pclose(out), 0);
  EXPECT_TRUE(absl::StartsWith(std::string(buf, n), "podsandbox-pause "));
}

TEST(PauseTest, ExitsZeroOnTermAndInt) {
  for (int sig : {SIGTERM, SIGINT}) {
    pid_t pid = SpawnPause();
    ASSERT_GT(pid, 0);
    ASSERT_TRUE(Eventually([&] { return Ready(pid); }));
    ASSERT_EQ(::kill(pid, sig), 0);
    int status = WaitExit(pid);
    EXPECT_TRUE(WIFEXITED(status)) << "signal " << sig << " status " << status;
    EXPECT_EQ(WEXITSTATUS(status), 0);
  }
}

TEST(PauseTest, ReapsAnOrphanedChild) {
  // middle_pipe holds the middle process, orphan_pipe the orphan; both
  // exit when their pipe's write end (ours only) closes.
  int middle_pipe[2], orphan_pipe[2];
  ASSERT_EQ(::pipe2(middle_pipe, O_CLOEXEC), 0);
  ASSERT_EQ(::pipe2(orphan_pipe, O_CLOEXEC), 0);
  pid_t pause = ::fork();
  ASSERT_GE(pause, 0);
  if (pause == 0) {
    // Becomes pause, after leaving a middle child behind that itself
    // starts the future orphan. Only async-signal-safe calls here.
    if (::fork() == 0) {
      // Every write end but ours must close, or the reads never end.
      if (::fork() == 0) {
        ::close(middle_pipe[1]);
        ::close(orphan_pipe[1]);
        char c;
        while (::read(orphan_pipe[0], &c, 1) > 0) {
        }
        ::_exit(0);
      }
      ::close(middle_pipe[1]);
      ::close(orphan_pipe[1]);
      char c;
      while (::read(middle_pipe[0], &c, 1) > 0) {
      }
      ::_exit(0);
    }
    ::execl(kPause, kPause, nullptr);
    ::_exit(127);
  }
  ::close(middle_pipe[0]);
  ::close(orphan_pipe[0]);
  ASSERT_TRUE(Eventually([&] { return Ready(pause); }));

  // Find the orphan-to-be: pause's grandchild.
  pid_t middle = 0, orphan = 0;
  ASSERT_TRUE(Eventually([&] {
    absl::StatusOr<std::string> children = sys::ReadFile(
        absl::StrCat("/proc/", pause, "/task/", pause, "/children"));
    if (!children.ok() ||
        !absl::SimpleAtoi(absl::StripAsciiWhitespace(*children), &middle)) {
      return false;
    }
    absl::StatusOr<std::string> grand = sys::ReadFile(
        absl::StrCat("/proc/", middle, "/task/", middle, "/children"));
    return grand.ok() &&
           absl::SimpleAtoi(absl::StripAsciiWhitespace(*grand), &orphan);
  }));

  // The middle exits: pause reaps it and adopts the orphan.
  ::close(middle_pipe[1]);
  EXPECT_TRUE(Eventually([&] {
    absl::StatusOr<sys::ProcStat> stat = sys::ReadProcStat(orphan);
    return stat.ok() && stat->ppid == pause;
  }));
  EXPECT_TRUE(Eventually([&] { return !sys::ReadProcStat(middle).ok(); }));
  // The orphan exits: pause reaps it too; no zombie stays.
  ::close(orphan_pipe[1]);
  EXPECT_TRUE(Eventually([&] { return !sys::ReadProcStat(orphan).ok(); }))
      << "orphan " << orphan << " not reaped";

  ASSERT_EQ(::kill(pause, SIGTERM), 0);
  int status = WaitExit(pause);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

}  // namespace
}  // namespace podsandbox::sandbox::pause
