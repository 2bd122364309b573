// What a privileged test may leave behind, snapshotted before it runs and
// compared after: mount points, links in the host netns, files under
// watched directories (IPAM leases, runtime state, pins, CNI cache), the
// processes a sandbox can leave (our descendants, pause/runtime/plugin
// binaries, anything in another user or network namespace) and
// net.ipv4.ip_forward.
//
// LeakCheckedTest takes the snapshot in SetUp and, in TearDown (which runs
// even after a failed ASSERT), polls until the host matches it again or a
// deadline passes, then fails the test with what differs.
#ifndef PODSANDBOX_SYS_TESTING_LEAK_CHECK_H_
#define PODSANDBOX_SYS_TESTING_LEAK_CHECK_H_

#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace podsandbox::sys {

struct HostSnapshot {
  std::set<std::string> mounts;
  std::set<std::string> links;
  std::set<std::string> files;
  std::set<std::string> processes;
  std::string ip_forward;

  // `watched_dirs` are walked recursively; missing ones count as empty.
  static HostSnapshot Take(const std::vector<std::string>& watched_dirs);
};

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

  // Runs before the final comparison: undo what the test itself set up on
  // purpose (a test bridge, the pin dir bind mounts).
  virtual void CleanUpTestFixtures() {}

 private:
  std::vector<std::string> watched_dirs_ = {"/var/lib/cni", "/run/netns"};
  HostSnapshot before_;
  bool snapshotted_ = false;
};

}  // namespace podsandbox::sys

#endif  // PODSANDBOX_SYS_TESTING_LEAK_CHECK_H_
