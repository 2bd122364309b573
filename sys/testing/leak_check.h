// What a privileged test may leave behind, snapshotted before it runs and
// compared after: mount points, links in the host netns, files under
// watched directories (IPAM leases, runtime state, pins, CNI cache), the
// processes a sandbox can leave (our descendants, pause/runtime/plugin
// binaries, anything in another user or network namespace),
// net.ipv4.ip_forward, cgroup directories and iptables/ip6tables chains and
// rules (CNI's portmap and bridge ipMasq make them).
//
// Cgroups: the top level of every hierarchy of the host's layout (a pod's
// cgroup with no cgroup_parent, or the parent itself) plus every directory
// below watched cgroup paths. Not whole trees: the host's own managers
// (systemd, the session runner) create and remove cgroups below the top
// level all the time, which a test did not leak.
// iptables: every table's user chains and rules, and built-in chains whose
// policy is not ACCEPT; counters are left out. A built-in chain with policy
// ACCEPT and no rules is what an untouched table shows, so its appearance
// (iptables-nft lists a table once something touched it) is no leak.
//
// LeakCheckedTest takes the snapshot in SetUp and, in TearDown (which runs
// even after a failed ASSERT), first fails the test with what the derived
// fixture finds left behind in its own trees (FindLeftovers), then cleans
// up (CleanUpTestFixtures), then polls until the host matches the snapshot
// again or a deadline passes, and fails the test with what differs.
#ifndef PODSANDBOX_SYS_TESTING_LEAK_CHECK_H_
#define PODSANDBOX_SYS_TESTING_LEAK_CHECK_H_

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "gtest/gtest.h"

namespace podsandbox::sys {

struct HostSnapshot {
  std::set<std::string> mounts;
  std::set<std::string> links;
  std::set<std::string> files;
  // "sleep (pid 42)": compared without the state letter, which a live
  // process changes all the time (a registry child goes R -> S between two
  // snapshots); the state of each is in process_states, for messages only.
  std::set<std::string> processes;
  std::map<std::string, char> process_states;
  std::string ip_forward;
  // Directories, as "/sys/fs/cgroup/memory/psb-1/abc".
  std::set<std::string> cgroups;
  // "iptables nat :CNI-HOSTPORT-DNAT -", "ip6tables filter -A ...".
  std::set<std::string> iptables;

  // `watched_dirs` are walked recursively; missing ones count as empty.
  // `watched_cgroups` are cgroupfs paths ("/psb-test-1") walked recursively
  // in every hierarchy; the top level of each hierarchy always is.
  static HostSnapshot Take(
      const std::vector<std::string>& watched_dirs,
      const std::vector<std::string>& watched_cgroups = {});
};

// The chains and rules of iptables-save output (`command`: "iptables" or
// "ip6tables", the prefix of each entry), as HostSnapshot::iptables holds
// them.
std::set<std::string> ParseIptablesSave(absl::string_view command,
                                        absl::string_view text);

// Empty when `after` equals `before`; else one line per difference
// ("leaked mount /x", "removed link br0", ...).
std::string DescribeDifferences(const HostSnapshot& before,
                                const HostSnapshot& after);

class LeakCheckedTest : public ::testing::Test {
 protected:
  // Fails at once (not skip) unless running as root: a skipped privileged
  // test in CI is a silent hole.
  void SetUp() override;
  void TearDown() override;

  // Directories whose files must be the same after the test. Call in the
  // derived SetUp before LeakCheckedTest::SetUp, or at any time before
  // TearDown (later additions are snapshotted when added).
  void WatchDirectory(const std::string& dir);

  // Cgroupfs paths whose whole subtrees must be the same after the test, in
  // every hierarchy (a test's cgroup_parent). Like WatchDirectory, may be
  // called before or after SetUp.
  void WatchCgroup(const std::string& path);

  // Runs first in TearDown, before CleanUpTestFixtures: what the test left
  // in the trees the fixture owns (which the snapshot does not cover, since
  // the fixture made them after it, and CleanUpTestFixtures removes), one
  // line each. Non-empty fails the test.
  virtual std::string FindLeftovers() { return ""; }

  // Runs before the final comparison: undo what the test itself set up on
  // purpose (a test bridge, the pin dir bind mounts).
  virtual void CleanUpTestFixtures() {}

 private:
  std::vector<std::string> watched_dirs_ = {"/var/lib/cni", "/run/netns"};
  std::vector<std::string> watched_cgroups_;
  HostSnapshot before_;
  bool snapshotted_ = false;
};

}  // namespace podsandbox::sys

#endif  // PODSANDBOX_SYS_TESTING_LEAK_CHECK_H_
