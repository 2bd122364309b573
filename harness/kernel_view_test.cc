#include "harness/kernel_view.h"

#include <unistd.h>

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace podsandbox::harness {
namespace {

constexpr char kMountInfo[] =
    "22 1 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs "
    "sysfs rw\n"
    "30 22 0:26 / /sys/fs/cgroup rw,nosuid shared:9 master:2 - cgroup2 "
    "cgroup2 rw\n"
    "40 1 0:50 / /sys ro,nosuid - sysfs sysfs ro\n"
    "41 1 8:1 /a\\040b /mnt/with\\040space rw - ext4 /dev/sda1 rw\n";

TEST(MountInfoTest, ParsesFieldsAndOptionalOnes) {
  absl::StatusOr<std::vector<MountEntry>> mounts = ParseMountInfo(kMountInfo);
  ASSERT_TRUE(mounts.ok()) << mounts.status();
  ASSERT_EQ(mounts->size(), 4u);
  EXPECT_EQ((*mounts)[1].fstype, "cgroup2");
  EXPECT_EQ((*mounts)[1].mount_point, "/sys/fs/cgroup");
  EXPECT_EQ((*mounts)[3].root, "/a b");
  EXPECT_EQ((*mounts)[3].mount_point, "/mnt/with space");
  EXPECT_EQ((*mounts)[3].source, "/dev/sda1");
}

TEST(MountInfoTest, TopmostMountWins) {
  absl::StatusOr<std::vector<MountEntry>> mounts = ParseMountInfo(kMountInfo);
  ASSERT_TRUE(mounts.ok());
  const MountEntry* sys = FindMount(*mounts, "/sys");
  ASSERT_NE(sys, nullptr);
  EXPECT_EQ(sys->device, "0:50");
  EXPECT_TRUE(IsReadOnly(*sys));
  EXPECT_FALSE(IsReadOnly((*mounts)[0]));
  EXPECT_EQ(FindMount(*mounts, "/proc"), nullptr);
}

TEST(MountInfoTest, MalformedLine) {
  EXPECT_EQ(ParseMountInfo("22 1 0:21 / /sys rw\n").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseMountInfo("1 2 3 4 5 6 7 8\n").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(KernelViewTest, OurOwnProcess) {
  absl::StatusOr<std::vector<MountEntry>> mounts = ReadMountInfo(0);
  ASSERT_TRUE(mounts.ok()) << mounts.status();
  EXPECT_NE(FindMount(*mounts, "/"), nullptr);
  absl::StatusOr<netns::NamespaceId> self = NamespaceOf(0, "user");
  absl::StatusOr<netns::NamespaceId> by_pid = NamespaceOf(getpid(), "user");
  ASSERT_TRUE(self.ok()) << self.status();
  ASSERT_TRUE(by_pid.ok()) << by_pid.status();
  EXPECT_EQ(*self, *by_pid);
  EXPECT_TRUE(IsNamespacePin("/proc/self/ns/net"));
  EXPECT_FALSE(IsNamespacePin("/proc/self/status"));
  EXPECT_FALSE(IsNamespacePin("/nonexistent"));
}

TEST(ParseFibTrieLocalAddressesTest, ListsEachHostLocalAddressOnce) {
  // A pod's netns: lo and eth0 with 10.238.0.5/24, both tables.
  constexpr char kTrie[] =
      "Main:\n"
      "  +-- 0.0.0.0/0 3 0 5\n"
      "     |-- 0.0.0.0\n"
      "        /0 universe UNICAST\n"
      "     +-- 10.238.0.0/24 2 0 2\n"
      "        |-- 10.238.0.0\n"
      "           /24 link UNICAST\n"
      "        |-- 10.238.0.5\n"
      "           /32 host LOCAL\n"
      "        |-- 10.238.0.255\n"
      "           /32 link BROADCAST\n"
      "     +-- 127.0.0.0/8 2 0 2\n"
      "        |-- 127.0.0.1\n"
      "           /32 host LOCAL\n"
      "Local:\n"
      "  +-- 0.0.0.0/0 3 0 5\n"
      "        |-- 10.238.0.5\n"
      "           /32 host LOCAL\n"
      "        |-- 127.0.0.1\n"
      "           /32 host LOCAL\n";
  EXPECT_EQ(ParseFibTrieLocalAddresses(kTrie),
            (std::vector<std::string>{"10.238.0.5", "127.0.0.1"}));
  EXPECT_TRUE(ParseFibTrieLocalAddresses("").empty());
}

TEST(HasAddressTest, OwnLoopbackYesOtherNoGarbageRefused) {
  absl::StatusOr<bool> lo = HasAddress(0, "127.0.0.1");
  ASSERT_TRUE(lo.ok()) << lo.status();
  EXPECT_TRUE(*lo);
  absl::StatusOr<bool> other = HasAddress(0, "192.0.2.123");
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_FALSE(*other);
  EXPECT_EQ(HasAddress(0, "not-an-ip").status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace podsandbox::harness
