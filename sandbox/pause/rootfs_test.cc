#include "sandbox/pause/rootfs.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sys/file.h"
#include "sys/real_sys.h"
#include "sys/testing/faulty_sys.h"
#include "sys/testing/status_matchers.h"
#include "sys/testing/temp_dir.h"

namespace podsandbox::sandbox::pause {
namespace {

using ::podsandbox::sys::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr char kPause[] = "sandbox/pause/pause";

struct stat Stat(const std::string& path) {
  struct stat st = {};
  ::stat(path.c_str(), &st);
  return st;
}

std::vector<std::string> List(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return names;
  while (struct dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  ::closedir(d);
  return names;
}

int Entries(const std::string& dir) {
  int n = 0;
  for (const char* name : {"pause", "proc", "sys", "dev", "etc"}) {
    if (::access(absl::StrCat(dir, "/", name).c_str(), F_OK) == 0) ++n;
  }
  return n;
}

class RootfsTest : public ::testing::Test {
 protected:
  sys::RealSys real_;
  sys::FaultySys sys_{real_};
  sys::TempDir dir_;
  std::string rootfs_ = dir_.Sub("rootfs");
};

TEST_F(RootfsTest, LaysOutPauseAndMountPoints) {
  ASSERT_OK(EnsurePauseRootfs(sys_, rootfs_, kPause));
  EXPECT_EQ(Entries(rootfs_), 5);
  struct stat pause = Stat(rootfs_ + "/pause");
  EXPECT_TRUE(S_ISREG(pause.st_mode));
  EXPECT_EQ(pause.st_mode & 07777, 0755);
  EXPECT_EQ(pause.st_size, Stat(kPause).st_size);
  EXPECT_TRUE(S_ISDIR(Stat(rootfs_ + "/proc").st_mode));
  EXPECT_EQ(Stat(rootfs_).st_mode & 07777, 0755);
}

TEST_F(RootfsTest, IsIdempotent) {
  ASSERT_OK(EnsurePauseRootfs(sys_, rootfs_, kPause));
  ino_t inode = Stat(rootfs_).st_ino;
  ASSERT_OK(EnsurePauseRootfs(sys_, rootfs_, kPause));
  EXPECT_EQ(Stat(rootfs_).st_ino, inode) << "rebuilt although up to date";
}

TEST_F(RootfsTest, ReplacesAnOutdatedOne) {
  ASSERT_OK(sys::MakeDirs(real_, rootfs_ + "/proc", 0755));
  ASSERT_OK(sys::WriteFileAtomically(real_, rootfs_ + "/pause", "old", 0755));
  ASSERT_OK(EnsurePauseRootfs(sys_, rootfs_, kPause));
  EXPECT_EQ(Stat(rootfs_ + "/pause").st_size, Stat(kPause).st_size);
  EXPECT_EQ(Entries(rootfs_), 5);
  // Neither the new temp tree nor the old one is left beside it.
  EXPECT_THAT(List(dir_.path()), ElementsAre("rootfs"));
}

TEST_F(RootfsTest, RefusesBadArguments) {
  EXPECT_THAT(
      EnsurePauseRootfs(sys_, "rootfs", kPause),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("absolute")));
  EXPECT_THAT(EnsurePauseRootfs(sys_, rootfs_, dir_.Sub("no-pause")),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("pause")));
  EXPECT_NE(::access(rootfs_.c_str(), F_OK), 0);
}

// Every syscall of the build, failed in turn: an error, and no rootfs or
// temp tree left.
TEST_F(RootfsTest, EveryFailureLeavesNothing) {
  for (sys::SysCall call : {sys::SysCall::kMkdir, sys::SysCall::kOpen,
                            sys::SysCall::kWrite, sys::SysCall::kRename}) {
    for (int nth = 1; nth <= 6; ++nth) {
      SCOPED_TRACE(absl::StrCat(sys::SysCallName(call), " #", nth));
      sys_.Reset();
      sys_.FailNth(call, nth, EIO);
      absl::Status s = EnsurePauseRootfs(sys_, rootfs_, kPause);
      sys_.Reset();
      if (s.ok()) {
        // The fault fell beyond the calls this build makes.
        EXPECT_EQ(Entries(rootfs_), 5);
        ASSERT_OK(sys::RemoveTree(real_, rootfs_));
        continue;
      }
      EXPECT_THAT(List(dir_.path()), IsEmpty()) << s;
    }
  }
}

}  // namespace
}  // namespace podsandbox::sandbox::pause
