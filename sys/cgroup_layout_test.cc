#include "sys/cgroup_layout.h"

#include <linux/magic.h>

#include <cerrno>
#include <map>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sys/testing/status_matchers.h"

namespace podsandbox::sys {
namespace {

using ::podsandbox::sys::testing::IsOkAndHolds;
using ::podsandbox::sys::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// A host as statfs(2) sees it: f_type per path; any other path is ENOENT.
class FakeHost {
 public:
  explicit FakeHost(std::map<std::string, long> types)
      : types_(std::move(types)) {}
  SysResult operator()(const char* path) const {
    auto it = types_.find(path);
    if (it == types_.end()) return SysResult{-1, ENOENT};
    return SysResult{it->second, 0};
  }

 private:
  std::map<std::string, long> types_;
};

constexpr long kCgroup2 = CGROUP2_SUPER_MAGIC;
constexpr long kTmpfs = TMPFS_MAGIC;
constexpr long kCgroup1 = CGROUP_SUPER_MAGIC;

TEST(DetectCgroupLayoutTest, Cgroup2AtTheRootIsV2) {
  // Debian 12: the unified hierarchy at /sys/fs/cgroup, no unified/.
  FakeHost host({{"/sys/fs/cgroup", kCgroup2}});
  EXPECT_THAT(DetectCgroupLayout(host), IsOkAndHolds(CgroupLayout::kV2));
}

TEST(DetectCgroupLayoutTest, TmpfsWithCgroup2AtUnifiedIsHybrid) {
  FakeHost host(
      {{"/sys/fs/cgroup", kTmpfs}, {"/sys/fs/cgroup/unified", kCgroup2}});
  EXPECT_THAT(DetectCgroupLayout(host), IsOkAndHolds(CgroupLayout::kHybrid));
}

TEST(DetectCgroupLayoutTest, TmpfsWithoutUnifiedIsV1) {
  FakeHost host({{"/sys/fs/cgroup", kTmpfs}});
  EXPECT_THAT(DetectCgroupLayout(host), IsOkAndHolds(CgroupLayout::kV1));
}

TEST(DetectCgroupLayoutTest, UnifiedThatIsNotCgroup2IsV1) {
  // An empty directory left by a hierarchy that is no longer mounted: the
  // tmpfs itself answers statfs there.
  FakeHost host(
      {{"/sys/fs/cgroup", kTmpfs}, {"/sys/fs/cgroup/unified", kTmpfs}});
  EXPECT_THAT(DetectCgroupLayout(host), IsOkAndHolds(CgroupLayout::kV1));
}

TEST(DetectCgroupLayoutTest, NothingMountedIsFailedPrecondition) {
  FakeHost missing({});
  EXPECT_THAT(DetectCgroupLayout(missing),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("statfs /sys/fs/cgroup")));
  // A v1 hierarchy mounted at the root itself is no layout we know.
  FakeHost odd({{"/sys/fs/cgroup", kCgroup1}});
  EXPECT_THAT(DetectCgroupLayout(odd),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("neither cgroup2 nor a tmpfs")));
}

TEST(DetectCgroupLayoutTest, ThisHostHasALayout) {
  // Whichever it is: the real statfs path works and agrees with the fake
  // seam's rules (checked above).
  absl::StatusOr<CgroupLayout> layout = DetectCgroupLayout();
  ASSERT_OK(layout.status());
  EXPECT_THAT(CgroupLayoutName(*layout),
              ::testing::AnyOf("v1", "hybrid", "v2"));
}

constexpr char kHybridMountinfo[] =
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime shared:7 - cgroup cgroup "
    "rw,memory\n"
    "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup "
    "rw,name=systemd\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n"
    "50 23 0:40 / /mnt/other-cgroup rw - cgroup cgroup rw,pids\n";

TEST(CgroupV1MountPointsTest, ListsCgroupV1MountsUnderTheRootOnly) {
  EXPECT_THAT(CgroupV1MountPoints(kHybridMountinfo),
              ElementsAre("/sys/fs/cgroup/cpu", "/sys/fs/cgroup/memory",
                          "/sys/fs/cgroup/systemd"));
  EXPECT_THAT(CgroupV1MountPoints(
                  "30 22 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n"),
              ElementsAre());
}

TEST(CgroupDirectoriesTest, OnePathPerHierarchyOfTheLayout) {
  const std::vector<std::string> v1 = {"/sys/fs/cgroup/cpu",
                                       "/sys/fs/cgroup/memory"};
  EXPECT_THAT(CgroupDirectories(CgroupLayout::kV2, v1, "/psb/abc"),
              ElementsAre("/sys/fs/cgroup/psb/abc"));
  EXPECT_THAT(CgroupDirectories(CgroupLayout::kV1, v1, "/psb/abc"),
              ElementsAre("/sys/fs/cgroup/cpu/psb/abc",
                          "/sys/fs/cgroup/memory/psb/abc"));
  EXPECT_THAT(
      CgroupDirectories(CgroupLayout::kHybrid, v1, "/psb/abc"),
      ElementsAre("/sys/fs/cgroup/cpu/psb/abc", "/sys/fs/cgroup/memory/psb/abc",
                  "/sys/fs/cgroup/unified/psb/abc"));
  // The roots themselves.
  EXPECT_THAT(CgroupDirectories(CgroupLayout::kV2, v1, ""),
              ElementsAre("/sys/fs/cgroup"));
}

}  // namespace
}  // namespace podsandbox::sys
