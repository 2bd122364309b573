#include "oci/exit_watcher.h"

#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sys/real_sys.h"
#include "sys/testing/status_matchers.h"

namespace podsandbox::oci {
namespace {

using ::podsandbox::sys::testing::StatusIs;

// A child that sleeps until killed.
pid_t SpawnSleeper() {
  pid_t pid = ::fork();
  if (pid == 0) {
    for (;;) ::pause();
  }
  return pid;
}

sys::UniqueFd PidfdOf(pid_t pid) {
  return sys::UniqueFd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
}

class ExitWatcherTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_OK(watcher_.Start()); }

  // Waits up to `timeout` for `n` reported exits.
  std::vector<ProcessExit> Exits(size_t n, absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    auto enough = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return exits_.size() >= n;
    };
    mu_.AwaitWithTimeout(absl::Condition(&enough), timeout);
    return exits_;
  }

  sys::RealSys sys_;
  sys::OrphanReaper reaper_{sys_};
  absl::Mutex mu_;
  std::vector<ProcessExit> exits_ ABSL_GUARDED_BY(mu_);
  ExitWatcher watcher_{sys_, &reaper_, [this](const ProcessExit& exit) {
                         absl::MutexLock lock(&mu_);
                         exits_.push_back(exit);
                       }};
};

TEST_F(ExitWatcherTest, ReportsAndReapsAnExit) {
  pid_t pid = SpawnSleeper();
  ASSERT_GT(pid, 0);
  ASSERT_OK(watcher_.Watch("pod", pid, PidfdOf(pid), /*notify=*/true));
  absl::Time killed = absl::Now();
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  std::vector<ProcessExit> exits = Exits(1, absl::Seconds(5));
  ASSERT_EQ(exits.size(), 1u);
  EXPECT_EQ(exits[0].id, "pod");
  EXPECT_EQ(exits[0].pid, pid);
  EXPECT_TRUE(exits[0].status_known);
  EXPECT_EQ(exits[0].term_signal, SIGKILL);
  // Reported as soon as the pidfd fires (about a millisecond here; the
  // design goal is under 100 ms). Recorded, not asserted: elapsed time
  // depends on the machine's load.
  RecordProperty(
      "exit_report_latency_us",
      static_cast<int>(absl::ToInt64Microseconds(exits[0].time - killed)));
  // Reaped: no zombie is left to wait for.
  EXPECT_EQ(::waitpid(pid, nullptr, WNOHANG), -1);
  EXPECT_TRUE(watcher_.WaitForExit("pod", absl::ZeroDuration()));
  watcher_.Forget("pod");
  EXPECT_FALSE(watcher_.IsWatched("pod"));
}

TEST_F(ExitWatcherTest, UnnotifiedExitIsReportedByNotify) {
  pid_t pid = SpawnSleeper();
  ASSERT_OK(watcher_.Watch("pod", pid, PidfdOf(pid), /*notify=*/false));
  ASSERT_EQ(::kill(pid, SIGTERM), 0);
  ASSERT_TRUE(watcher_.WaitForExit("pod", absl::Seconds(5)));
  EXPECT_TRUE(Exits(1, absl::Milliseconds(50)).empty());
  watcher_.Notify("pod");
  std::vector<ProcessExit> exits = Exits(1, absl::Seconds(1));
  ASSERT_EQ(exits.size(), 1u);
  EXPECT_EQ(exits[0].term_signal, SIGTERM);
  watcher_.Notify("pod");  // reported once only
  EXPECT_EQ(Exits(2, absl::Milliseconds(50)).size(), 1u);
  watcher_.Forget("pod");
}

TEST_F(ExitWatcherTest, ForgottenProcessIsNotReported) {
  pid_t pid = SpawnSleeper();
  ASSERT_OK(watcher_.Watch("pod", pid, PidfdOf(pid), /*notify=*/true));
  EXPECT_THAT(watcher_.Watch("pod", pid, PidfdOf(pid), true),
              StatusIs(absl::StatusCode::kAlreadyExists, ::testing::_));
  EXPECT_FALSE(watcher_.WaitForExit("pod", absl::Milliseconds(20)));
  watcher_.Forget("pod");
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  int status = 0;
  EXPECT_EQ(::waitpid(pid, &status, 0), pid);  // still ours to reap
  EXPECT_TRUE(Exits(1, absl::Milliseconds(50)).empty());
}

// A process that is not our child (as a container after a daemon restart):
// waitid cannot reap it, its adopter does, and the pidfd still tells how
// it ended (PIDFD_INFO_EXIT), for an exit code and for a signal.
TEST_F(ExitWatcherTest, ExitOfAProcessNotOurChildHasItsRealStatus) {
  for (int how : {7, -SIGKILL}) {
    int go[2], told[2];
    ASSERT_EQ(::pipe(go), 0);
    ASSERT_EQ(::pipe(told), 0);
    pid_t middle = ::fork();
    if (middle == 0) {
      pid_t grandchild = ::fork();
      if (grandchild == 0) {
        char c;
        ::close(go[1]);
        (void)!::read(go[0], &c, 1);
        if (how < 0) ::kill(::getpid(), -how);
        ::_exit(how);
      }
      (void)!::write(told[1], &grandchild, sizeof(grandchild));
      ::_exit(0);
    }
    ::close(told[1]);
    ::close(go[0]);
    pid_t grandchild = 0;
    ASSERT_EQ(::read(told[0], &grandchild, sizeof(grandchild)),
              static_cast<ssize_t>(sizeof(grandchild)));
    ::close(told[0]);
    ASSERT_EQ(::waitpid(middle, nullptr, 0), middle);  // now an orphan
    std::string id = absl::StrCat("c", how);
    ASSERT_OK(watcher_.Watch(id, grandchild, PidfdOf(grandchild), true));
    ::close(go[1]);  // exit now
    ASSERT_TRUE(watcher_.WaitForExit(id, absl::Seconds(30)));
    std::vector<ProcessExit> exits = Exits(1, absl::Seconds(30));
    ASSERT_EQ(exits.size(), 1u);
    EXPECT_TRUE(exits[0].status_known);
    if (how < 0) {
      EXPECT_EQ(exits[0].term_signal, SIGKILL);
    } else {
      EXPECT_EQ(exits[0].exit_code, 7);
    }
    watcher_.Forget(id);
    absl::MutexLock lock(&mu_);
    exits_.clear();
  }
}

}  // namespace
}  // namespace podsandbox::oci
