#include "harness/checks.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <set>
#include <string>

#include "gtest/gtest.h"
#include "harness/check_env.h"
#include "harness/kernel_view.h"
#include "harness/namespace_checks.h"
#include "sys/proc.h"

namespace podsandbox::harness {
namespace {

std::vector<std::string> Names(const std::vector<Check>& checks) {
  std::vector<std::string> names;
  for (const Check& c : checks) names.push_back(c.name);
  return names;
}

TEST(SelectChecksTest, EmptySelectsAllWithUniqueNames) {
  absl::StatusOr<std::vector<Check>> all = SelectChecks("");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), AllChecks().size());
  std::set<std::string> unique;
  for (const Check& c : *all) unique.insert(c.name);
  EXPECT_EQ(unique.size(), all->size());
}

TEST(SelectChecksTest, NamesAndPrefixesInRegistryOrder) {
  absl::StatusOr<std::vector<Check>> some =
      SelectChecks("teardown_leaves_nothing, refuses_*,maps_one_range");
  ASSERT_TRUE(some.ok()) << some.status();
  EXPECT_EQ(Names(*some),
            (std::vector<std::string>{
                "maps_one_range", "refuses_mode_container",
                "refuses_overlapping_ranges", "refuses_zero_length",
                "refuses_uids_without_gids", "teardown_leaves_nothing"}));
}

TEST(SelectChecksTest, UnknownEntryIsNamed) {
  absl::StatusOr<std::vector<Check>> none = SelectChecks("maps_one_range,nope");
  EXPECT_EQ(none.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(none.status().message().find("\"nope\""), std::string::npos);
}

MountEntry Sys(const std::string& device, const std::string& fstype) {
  MountEntry m;
  m.device = device;
  m.mount_point = "/sys";
  m.fstype = fstype;
  m.options = "ro";
  return m;
}

TEST(JudgeSysfsTest, OnlyTheSysfsOfThePausesOwnNetnsPasses) {
  EXPECT_EQ(JudgeSysfs(7, Sys("0:48", "sysfs"), "0:21", "0:48").outcome,
            Outcome::kPass);
  const Verdict host = JudgeSysfs(7, Sys("0:21", "sysfs"), "0:21", "0:48");
  EXPECT_EQ(host.outcome, Outcome::kFail);
  EXPECT_NE(host.detail.find("is the host's sysfs"), std::string::npos);
  // Another netns's sysfs (another pod's, bound in): not the host's, and
  // still wrong.
  const Verdict other = JudgeSysfs(7, Sys("0:50", "sysfs"), "0:21", "0:48");
  EXPECT_EQ(other.outcome, Outcome::kFail);
  EXPECT_NE(other.detail.find("not the sysfs of its own netns (0:48)"),
            std::string::npos);
  const Verdict tmpfs = JudgeSysfs(7, Sys("0:60", "tmpfs"), "0:21", "0:48");
  EXPECT_EQ(tmpfs.outcome, Outcome::kFail);
  EXPECT_NE(tmpfs.detail.find("is tmpfs, not sysfs"), std::string::npos);
}

TEST(VerifyPauseOfPodTest, AProcessOlderThanTheCallIsNotItsPause) {
  // A "call" a second (100 ticks at the usual USER_HZ) after this test
  // process started: whatever else it shares with a pod, RunPodSandbox did
  // not start it.
  absl::StatusOr<sys::ProcStat> self = sys::ReadProcStat(getpid());
  ASSERT_TRUE(self.ok()) << self.status();
  PodInfo info;
  info.pid = getpid();
  const absl::Status s = VerifyPauseOfPod("0123456789abcdef", info, nullptr,
                                          self->start_time + 100);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_NE(s.message().find("started before RunPodSandbox was called"),
            std::string::npos)
      << s;
  EXPECT_NE(s.message().find("reported for pod 0123456789ab "),
            std::string::npos)
      << s;
}

TEST(VerifyPauseOfPodTest, AProcessStartedAfterTheCallPasses) {
  const uint64_t called_at = MonotonicClockTicks();
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    pause();
    _exit(0);
  }
  PodInfo info;
  info.pid = child;
  const absl::Status s =
      VerifyPauseOfPod("0123456789abcdef", info, nullptr, called_at);
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  EXPECT_TRUE(s.ok()) << s;
}

TEST(VerifyPauseOfPodTest, NoPidIsFailedPrecondition) {
  EXPECT_EQ(VerifyPauseOfPod("x", PodInfo{}, nullptr, std::nullopt).code(),
            absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace podsandbox::harness
