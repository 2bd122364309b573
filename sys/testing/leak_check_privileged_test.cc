// The leak checker catches what it claims to: each kind of leak is planted
// for real (a mount, a netns pin, a veth pair, an IPAM lease file, a
// process, an ip_forward flip, cgroup directories, an iptables chain and
// rule), must show up in DescribeDifferences by name, and must be gone from
// it once cleaned. Needs root; the fixture is itself leak-checked, so a
// clean-up that missed something fails the test too.
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest-spi.h"
#include "gtest/gtest.h"
#include "sys/cgroup_layout.h"
#include "sys/file.h"
#include "sys/proc.h"
#include "sys/real_sys.h"
#include "sys/subprocess.h"
#include "sys/testing/leak_check.h"
#include "sys/testing/status_matchers.h"
#include "sys/testing/temp_dir.h"

namespace podsandbox::sys {
namespace {

using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

constexpr char kIpForward[] = "/proc/sys/net/ipv4/ip_forward";

// Runs `args` (argv[0] an absolute path); a failure fails the test.
void RunOrFail(std::vector<std::string> args) {
  RealSys sys;
  Command command{args[0], args};
  absl::StatusOr<SubprocessResult> r = RunSubprocess(sys, command);
  ASSERT_OK(r.status()) << args[0];
  EXPECT_TRUE(r->success()) << absl::StrJoin(args, " ") << ": "
                            << DescribeExit(*r) << " " << r->stderr_data;
}

// Replaces the file's contents with `text`; a failure fails the test.
void WriteText(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  out.close();
  EXPECT_TRUE(out.good()) << "write " << path;
}

bool IsMountPoint(const std::string& path) {
  absl::StatusOr<std::string> info = ReadFile("/proc/self/mountinfo");
  return info.ok() && absl::StrContains(*info, absl::StrCat(" ", path, " "));
}

class LeakCheckTest : public LeakCheckedTest {
 protected:
  void SetUp() override {
    WatchDirectory(ipam_.path());
    LeakCheckedTest::SetUp();
  }

  // Snapshots the host, runs `plant`, and expects every one of `reported`
  // as a line of the differences; then runs `clean` and expects the
  // differences to be empty again (polling: the kernel and the host settle
  // on their own time, never asserted on).
  void ExpectReportedThenGone(const std::function<void()>& plant,
                              const std::vector<std::string>& reported,
                              const std::function<void()>& clean) {
    const HostSnapshot before = Take();
    plant();
    const std::string planted = DescribeDifferences(before, Take());
    for (const std::string& line : reported) {
      EXPECT_THAT(planted, HasSubstr(absl::StrCat(line, "\n")));
    }
    clean();
    std::string left;
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    do {
      left = DescribeDifferences(before, Take());
      if (left.empty()) break;
      absl::SleepFor(absl::Milliseconds(20));  // polling, with a deadline
    } while (absl::Now() < deadline);
    EXPECT_EQ(left, "");
  }

  HostSnapshot Take() {
    return HostSnapshot::Take({ipam_.path(), "/run/netns"}, {watched_cgroup_});
  }

  const std::string tag_ = absl::StrCat(::getpid());
  const std::string watched_cgroup_ = absl::StrCat("/psb-leakcheck-", tag_);
  TempDir ipam_;
  TempDir mounts_;
};

TEST_F(LeakCheckTest, MountIsReported) {
  const std::string point = mounts_.Sub("m");
  ASSERT_EQ(::mkdir(point.c_str(), 0755), 0);
  ExpectReportedThenGone(
      [&] { ASSERT_EQ(::mount("psb", point.c_str(), "tmpfs", 0, nullptr), 0); },
      {absl::StrCat("leaked mount ", point)},
      [&] { ASSERT_EQ(::umount2(point.c_str(), MNT_DETACH), 0); });
}

TEST_F(LeakCheckTest, NetnsPinIsReportedAsMountAndFile) {
  const std::string name = absl::StrCat("psbleak", tag_);
  const std::string pin = absl::StrCat("/run/netns/", name);
  // ip makes /run/netns a shared mount of itself the first time; undone
  // here if it was not one before.
  const bool dir_was_mounted = IsMountPoint("/run/netns");
  ExpectReportedThenGone(
      [&] {
        RunOrFail({"/usr/sbin/ip", "netns", "add", name});
      },
      {absl::StrCat("leaked mount ", pin), absl::StrCat("leaked file ", pin)},
      [&] {
        RunOrFail({"/usr/sbin/ip", "netns", "del", name});
        if (!dir_was_mounted) {
          EXPECT_EQ(::umount2("/run/netns", MNT_DETACH), 0);
        }
      });
}

TEST_F(LeakCheckTest, VethPairIsReported) {
  const std::string a = absl::StrCat("psblk", tag_, "a");
  const std::string b = absl::StrCat("psblk", tag_, "b");
  ExpectReportedThenGone(
      [&] {
        RunOrFail({"/usr/sbin/ip", "link", "add", a, "type", "veth", "peer",
                   "name", b});
      },
      {absl::StrCat("leaked link ", a), absl::StrCat("leaked link ", b)},
      // Deleting one end of a veth pair deletes both.
      [&] {
        RunOrFail({"/usr/sbin/ip", "link", "del", a});
      });
}

TEST_F(LeakCheckTest, IpamLeaseFileIsReported) {
  // host-local keeps one file per leased address in its dataDir.
  const std::string lease = ipam_.Sub("10.99.0.7");
  ExpectReportedThenGone([&] { WriteText(lease, ""); },
                         {absl::StrCat("leaked file ", lease)},
                         [&] { ASSERT_EQ(::unlink(lease.c_str()), 0); });
}

TEST_F(LeakCheckTest, ChildProcessIsReported) {
  // Not through ExpectReportedThenGone: the line names the pid, known only
  // after the fork.
  const HostSnapshot before = Take();
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::pause();
    ::_exit(0);
  }
  const std::string planted = DescribeDifferences(before, Take());
  EXPECT_THAT(planted, HasSubstr(absl::StrCat("(pid ", child, ") state ")));
  EXPECT_THAT(planted, HasSubstr("leaked process "));
  ASSERT_EQ(::kill(child, SIGKILL), 0);
  ASSERT_EQ(::waitpid(child, nullptr, 0), child);
  // Reaped above: gone at once.
  EXPECT_EQ(DescribeDifferences(before, Take()), "");
}

// A live process changes state between snapshots all the time (a
// registry child serving a request goes R -> S): that is no leak.
TEST_F(LeakCheckTest, ProcessChangingStateIsNotReported) {
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::pause();
    ::_exit(0);
  }
  absl::Cleanup reap = [child] {
    ::kill(child, SIGKILL);
    ::waitpid(child, nullptr, 0);
  };
  auto wait_for_state = [child](char want) {
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (absl::Now() < deadline) {
      absl::StatusOr<ProcStat> stat = ReadProcStat(child);
      if (stat.ok() && stat->state == want) return true;
      absl::SleepFor(absl::Milliseconds(5));
    }
    return false;
  };
  ASSERT_EQ(::kill(child, SIGSTOP), 0);
  ASSERT_TRUE(wait_for_state('T'));
  const HostSnapshot stopped = Take();
  ASSERT_EQ(::kill(child, SIGCONT), 0);
  ASSERT_TRUE(wait_for_state('S'));
  const HostSnapshot sleeping = Take();
  // The fault fired: the two snapshots saw the child in different states.
  const std::string key = absl::StrCat("(pid ", child, ")");
  bool saw_both = false;
  for (const auto& [name, state] : stopped.process_states) {
    if (absl::StrContains(name, key)) {
      saw_both = state == 'T' && sleeping.process_states.at(name) == 'S';
    }
  }
  EXPECT_TRUE(saw_both);
  EXPECT_EQ(DescribeDifferences(stopped, sleeping), "");
}

TEST_F(LeakCheckTest, IpForwardChangeIsReported) {
  absl::StatusOr<std::string> was = ReadFile(kIpForward);
  ASSERT_OK(was.status());
  const std::string old_value(absl::StripAsciiWhitespace(*was));
  const std::string new_value = old_value == "1" ? "0" : "1";
  ExpectReportedThenGone([&] { WriteText(kIpForward, new_value); },
                         {absl::StrCat("net.ipv4.ip_forward changed from ",
                                       old_value, " to ", new_value)},
                         [&] { WriteText(kIpForward, old_value); });
}

TEST_F(LeakCheckTest, TopLevelCgroupIsReportedInEveryHierarchy) {
  // Where a pod with no cgroup_parent gets its cgroup.
  ASSERT_OK_AND_ASSIGN(
      std::vector<std::string> dirs,
      HostCgroupDirectories(absl::StrCat("/psb-leaked-", tag_)));
  ASSERT_FALSE(dirs.empty());
  std::vector<std::string> reported;
  for (const std::string& dir : dirs) {
    reported.push_back(absl::StrCat("leaked cgroup ", dir));
  }
  ExpectReportedThenGone(
      [&] {
        for (const std::string& dir : dirs) {
          ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0) << dir;
        }
      },
      reported,
      [&] {
        for (const std::string& dir : dirs) {
          ASSERT_EQ(::rmdir(dir.c_str()), 0) << dir;
        }
      });
}

TEST_F(LeakCheckTest, NestedCgroupUnderAWatchedParentIsReported) {
  // A pod's cgroup under a test's cgroup_parent, two levels down.
  // Watched before the parent exists, as a fixture watches its
  // cgroup_parent; the test removes the parent again at its end.
  WatchCgroup(watched_cgroup_);
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> parents,
                       HostCgroupDirectories(watched_cgroup_));
  for (const std::string& dir : parents) {
    ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0) << dir;
  }
  const std::string pod = absl::StrCat(parents[0], "/pod1");
  const std::string container = absl::StrCat(pod, "/abc");
  ExpectReportedThenGone(
      [&] {
        ASSERT_EQ(::mkdir(pod.c_str(), 0755), 0);
        ASSERT_EQ(::mkdir(container.c_str(), 0755), 0);
      },
      {absl::StrCat("leaked cgroup ", pod),
       absl::StrCat("leaked cgroup ", container)},
      [&] {
        ASSERT_EQ(::rmdir(container.c_str()), 0);
        ASSERT_EQ(::rmdir(pod.c_str()), 0);
      });
  for (const std::string& dir : parents) {
    EXPECT_EQ(::rmdir(dir.c_str()), 0) << dir;
  }
}

TEST_F(LeakCheckTest, IptablesChainAndRuleAreReported) {
  const std::string chain = absl::StrCat("PSB-LEAK-", tag_);
  ExpectReportedThenGone(
      [&] {
        RunOrFail({"/usr/sbin/iptables", "-w", "-t", "nat", "-N", chain});
        RunOrFail({"/usr/sbin/iptables", "-w", "-t", "nat", "-A", chain, "-s",
                   "10.99.0.7/32", "-j", "RETURN"});
      },
      {absl::StrCat("leaked iptables iptables nat :", chain, " -"),
       absl::StrCat("leaked iptables iptables nat -A ", chain,
                    " -s 10.99.0.7/32 -j RETURN")},
      [&] {
        RunOrFail({"/usr/sbin/iptables", "-w", "-t", "nat", "-F", chain});
        RunOrFail({"/usr/sbin/iptables", "-w", "-t", "nat", "-X", chain});
      });
}

TEST_F(LeakCheckTest, Ip6tablesRuleIsReported) {
  const std::string chain = absl::StrCat("PSB-LEAK6-", tag_);
  ExpectReportedThenGone(
      [&] {
        RunOrFail({"/usr/sbin/ip6tables", "-w", "-N", chain});
        RunOrFail({"/usr/sbin/ip6tables", "-w", "-A", chain, "-j", "RETURN"});
      },
      {absl::StrCat("leaked iptables ip6tables filter :", chain, " -"),
       absl::StrCat("leaked iptables ip6tables filter -A ", chain,
                    " -j RETURN")},
      [&] {
        RunOrFail({"/usr/sbin/ip6tables", "-w", "-F", chain});
        RunOrFail({"/usr/sbin/ip6tables", "-w", "-X", chain});
      });
}

TEST(ParseIptablesSaveTest, KeepsUserChainsRulesAndNonDefaultPolicies) {
  constexpr char kSave[] =
      "# Generated by iptables-nft-save v1.8.9 on Sun Nov 29 01:00:00 2026\n"
      "*nat\n"
      ":PREROUTING ACCEPT [12:720]\n"
      ":POSTROUTING ACCEPT [0:0]\n"
      ":PSB-TEST - [0:0]\n"
      "-A PREROUTING -m addrtype --dst-type LOCAL -j PSB-TEST\n"
      "COMMIT\n"
      "*filter\n"
      ":FORWARD DROP [3:180]\n"
      "COMMIT\n";
  // Counters are dropped, so a packet through a chain is no difference.
  EXPECT_THAT(ParseIptablesSave("iptables", kSave),
              UnorderedElementsAre(
                  "iptables nat :PSB-TEST -",
                  "iptables nat -A PREROUTING -m addrtype --dst-type LOCAL -j "
                  "PSB-TEST",
                  "iptables filter :FORWARD DROP"));
}

// portmap's global chains and the jumps into them stay for good once the
// first pod maps a port (a fresh host gets them from whichever test is
// first); a pod's own DNAT chain and its rule in CNI-HOSTPORT-DNAT are
// still leaks.
TEST(ParseIptablesSaveTest, IgnoresPortmapsGlobalChainsButNotAPodsOwn) {
  constexpr char kSave[] =
      "*nat\n"
      ":PREROUTING ACCEPT [0:0]\n"
      ":OUTPUT ACCEPT [0:0]\n"
      ":POSTROUTING ACCEPT [0:0]\n"
      ":CNI-HOSTPORT-DNAT - [0:0]\n"
      ":CNI-HOSTPORT-MASQ - [0:0]\n"
      ":CNI-HOSTPORT-SETMARK - [0:0]\n"
      ":CNI-DN-0123456789abcdef01234 - [0:0]\n"
      "-A PREROUTING -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT\n"
      "-A OUTPUT -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT\n"
      "-A POSTROUTING -m comment --comment \"CNI portfwd requiring "
      "masquerade\" -j CNI-HOSTPORT-MASQ\n"
      "-A CNI-HOSTPORT-MASQ -m mark --mark 0x2000/0x2000 -j MASQUERADE\n"
      "-A CNI-HOSTPORT-SETMARK -m comment --comment \"CNI portfwd masquerade "
      "mark\" -j MARK --set-xmark 0x2000/0x2000\n"
      "-A CNI-HOSTPORT-DNAT -p tcp -m multiport --dports 18080 -j "
      "CNI-DN-0123456789abcdef01234\n"
      "COMMIT\n";
  EXPECT_THAT(ParseIptablesSave("iptables", kSave),
              UnorderedElementsAre(
                  "iptables nat :CNI-DN-0123456789abcdef01234 -",
                  "iptables nat -A CNI-HOSTPORT-DNAT -p tcp -m multiport "
                  "--dports 18080 -j CNI-DN-0123456789abcdef01234"));
}

// A LeakCheckedTest whose fixture reports a leftover, driven by hand: its
// SetUp and TearDown run inside the test below.
class FixtureWithLeftover : public LeakCheckedTest {
 public:
  using LeakCheckedTest::SetUp;
  using LeakCheckedTest::TearDown;
  void TestBody() override {}
  std::string FindLeftovers() override {
    cleaned_before_check = cleaned;
    return "record /tmp/x/root/sandboxes/abc.json\n";
  }
  void CleanUpTestFixtures() override { cleaned = true; }

  bool cleaned = false;
  bool cleaned_before_check = true;
};

FixtureWithLeftover* fixture_with_leftover = nullptr;

TEST(LeakCheckedTestTest, LeftoversFailTheTestAndAreFoundBeforeCleanUp) {
  FixtureWithLeftover fixture;
  fixture_with_leftover = &fixture;
  fixture.SetUp();
  EXPECT_NONFATAL_FAILURE(fixture_with_leftover->TearDown(),
                          "left behind (found before cleaning up):\n"
                          "record /tmp/x/root/sandboxes/abc.json");
  EXPECT_FALSE(fixture.cleaned_before_check);
  EXPECT_TRUE(fixture.cleaned);
}

}  // namespace
}  // namespace podsandbox::sys
