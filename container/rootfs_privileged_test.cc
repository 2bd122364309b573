// Container rootfs over a real image store: busybox layers built by
// image/testing's builder, unpacked by the store, mounted as an overlay,
// plain and idmapped through a user namespace; every failing syscall rolled
// back with nothing left.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "container/rootfs.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "image/digest.h"
#include "image/image_record.h"
#include "image/store.h"
#include "image/testing/image_builder.h"
#include "image/testing/userns.h"
#include "image/unpack.h"
#include "sys/file.h"
#include "sys/real_sys.h"
#include "sys/testing/faulty_sys.h"
#include "sys/testing/leak_check.h"
#include "sys/testing/status_matchers.h"
#include "sys/testing/temp_dir.h"
#include "sys/unique_fd.h"

namespace podsandbox::container {
namespace {

using ::podsandbox::image::testing::Compression;
using ::podsandbox::image::testing::TarEntry;
using ::podsandbox::sys::testing::IsOk;
using ::podsandbox::sys::testing::IsOkAndHolds;

// Where the test user namespace (image/testing/userns.h) maps id 0.
constexpr uid_t kHostBase = 200000;

// Mount points (mountinfo's fifth field) below `dir`.
std::vector<std::string> MountPointsUnder(const std::string& dir) {
  std::vector<std::string> out;
  absl::StatusOr<std::string> info = sys::ReadFile("/proc/self/mountinfo");
  EXPECT_TRUE(info.ok());
  for (absl::string_view line : absl::StrSplit(info.value_or(""), '\n')) {
    std::vector<absl::string_view> fields = absl::StrSplit(line, ' ');
    if (fields.size() > 4 && absl::StartsWith(fields[4], dir + "/")) {
      out.push_back(std::string(fields[4]));
    }
  }
  return out;
}

struct stat StatOf(const std::string& path) {
  struct stat st = {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path << ": " << strerror(errno);
  return st;
}

class RootfsTest : public sys::LeakCheckedTest {
 protected:
  void SetUp() override {
    LeakCheckedTest::SetUp();
    ASSERT_THAT(store_.Init(), IsOk());
    // Base: busybox. Top: a user's file and a whiteout of bin/cat.
    ASSERT_OK_AND_ASSIGN(std::vector<TarEntry> base,
                         image::testing::BusyboxEntries());
    std::vector<TarEntry> top = {
        {"home", TarEntry::Type::kDir, "", "", 0755},
        {"home/user", TarEntry::Type::kDir, "", "", 0755, 1000, 1000},
        {"home/user/f", TarEntry::Type::kFile, "mine", "", 0644, 1000, 1000},
        {"bin/.wh.cat", TarEntry::Type::kFile, "", "", 0644},
    };
    std::vector<image::Digest> diff_ids;
    for (const auto* entries : {&base, &top}) {
      ASSERT_OK_AND_ASSIGN(std::string tar, image::testing::MakeTar(
                                                *entries, Compression::kNone));
      diff_ids.push_back(image::Sha256Of(tar));
      std::vector<image::Digest> chain = image::ChainIds(diff_ids);
      ASSERT_THAT(
          store_.CommitLayer(
              chain.back(),
              [&](int dir_fd) -> absl::Status {
                size_t at = 0;
                image::ByteSource source =
                    [&](char* buf, size_t size) -> absl::StatusOr<size_t> {
                  size_t n = std::min(size, tar.size() - at);
                  memcpy(buf, tar.data() + at, n);
                  at += n;
                  return n;
                };
                return image::UnpackLayer(real_, dir_fd, source).status();
              }),
          IsOk());
      layers_.push_back(store_.LayerPath(chain.back()));
    }
  }

  std::string FindLeftovers() override {
    std::string out;
    for (const std::string& path :
         {paths_.writable_dir, paths_.mountpoint, paths_.scratch_dir}) {
      struct stat st;
      if (::lstat(path.c_str(), &st) == 0) absl::StrAppend(&out, path, "\n");
    }
    return out;
  }

  sys::RealSys real_;
  sys::TempDir tmp_;
  image::Store store_{real_, tmp_.Sub("images")};
  std::vector<std::string> layers_;
  RootfsPaths paths_{tmp_.Sub("rw"), tmp_.Sub("rootfs"), tmp_.Sub("scratch")};
};

TEST_F(RootfsTest, OverlayOfTheImageLayersWithAWritableUpper) {
  ASSERT_THAT(MountRootfs(real_, paths_, {layers_, "", 0, 0}), IsOk());
  EXPECT_TRUE(S_ISREG(StatOf(paths_.mountpoint + "/bin/busybox").st_mode));
  struct stat st;
  EXPECT_NE(::lstat((paths_.mountpoint + "/bin/cat").c_str(), &st), 0)
      << "the top layer's whiteout hides bin/cat";
  EXPECT_EQ(StatOf(paths_.mountpoint + "/home/user/f").st_uid, 1000u);
  ASSERT_THAT(sys::WriteFileAtomically(real_, paths_.mountpoint + "/new", "x",
                                       0644, false),
              IsOk());
  EXPECT_THAT(sys::ReadFile(paths_.writable_dir + "/fs/new"),
              IsOkAndHolds("x"));
  // The layers themselves are never written.
  EXPECT_NE(::lstat((layers_.back() + "/new").c_str(), &st), 0);

  EXPECT_THAT(UnmountRootfs(real_, paths_), IsOk());
  EXPECT_THAT(UnmountRootfs(real_, paths_), IsOk());  // idempotent
  EXPECT_THAT(RemoveWritableLayer(real_, paths_), IsOk());
  EXPECT_THAT(RemoveWritableLayer(real_, paths_), IsOk());
}

TEST_F(RootfsTest, IdmappedLayersShowTheImageOwnedByThePodsIds) {
  ASSERT_OK_AND_ASSIGN(sys::UniqueFd userns,
                       image::testing::MakeUserns(kHostBase));
  std::string userns_path = absl::StrCat("/proc/self/fd/", userns.get());
  ASSERT_THAT(
      MountRootfs(real_, paths_, {layers_, userns_path, kHostBase, kHostBase}),
      IsOk());
  EXPECT_EQ(StatOf(paths_.mountpoint + "/bin/busybox").st_uid, kHostBase);
  EXPECT_EQ(StatOf(paths_.mountpoint + "/home/user/f").st_uid,
            kHostBase + 1000);
  EXPECT_EQ(StatOf(paths_.mountpoint).st_uid, kHostBase);
  EXPECT_THAT(sys::ReadFile(paths_.mountpoint + "/home/user/f"),
              IsOkAndHolds("mine"));
  // Only the overlay stays mounted: the idmapped clones were detached (the
  // overlay's options still name where they were).
  EXPECT_THAT(MountPointsUnder(tmp_.path()),
              ::testing::ElementsAre(paths_.mountpoint));
  struct stat st;
  EXPECT_NE(::lstat(paths_.scratch_dir.c_str(), &st), 0);
  // A copy-up keeps working without the clones attached.
  ASSERT_EQ(::chmod((paths_.mountpoint + "/home/user/f").c_str(), 0600), 0)
      << strerror(errno);
  EXPECT_EQ(StatOf(paths_.writable_dir + "/fs/home/user/f").st_uid,
            kHostBase + 1000);

  EXPECT_THAT(UnmountRootfs(real_, paths_), IsOk());
  EXPECT_THAT(RemoveWritableLayer(real_, paths_), IsOk());
}

TEST_F(RootfsTest, AnImageWithoutLayersGetsAnEmptyLower) {
  ASSERT_THAT(MountRootfs(real_, paths_, {{}, "", 0, 0}), IsOk());
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> names,
                       sys::ListDir(paths_.mountpoint));
  EXPECT_TRUE(names.empty());
  EXPECT_THAT(UnmountRootfs(real_, paths_), IsOk());
  EXPECT_THAT(RemoveWritableLayer(real_, paths_), IsOk());
}

// Each syscall MountRootfs makes, failed in turn: an error, the fault
// fired, and nothing left (FindLeftovers and the mount snapshot).
TEST_F(RootfsTest, EveryFailingSyscallLeavesNothing) {
  ASSERT_OK_AND_ASSIGN(sys::UniqueFd userns,
                       image::testing::MakeUserns(kHostBase));
  RootfsSpec spec{layers_, absl::StrCat("/proc/self/fd/", userns.get()),
                  kHostBase, kHostBase};
  sys::FaultySys probe(real_);
  ASSERT_THAT(MountRootfs(probe, paths_, spec), IsOk());
  std::vector<std::pair<sys::SysCall, int>> calls;
  for (int i = 0; i < sys::kSysCallCount; ++i) {
    auto call = static_cast<sys::SysCall>(i);
    calls.emplace_back(call, probe.count(call));
  }
  ASSERT_THAT(UnmountRootfs(real_, paths_), IsOk());
  ASSERT_THAT(RemoveWritableLayer(real_, paths_), IsOk());

  int faults = 0;
  for (auto [call, count] : calls) {
    for (int nth = 1; nth <= count; ++nth) {
      sys::FaultySys faulty(real_);
      faulty.FailNth(call, nth, EIO);
      absl::Status s = MountRootfs(faulty, paths_, spec);
      ASSERT_EQ(faulty.fired(call), 1) << sys::SysCallName(call) << " #" << nth;
      EXPECT_FALSE(s.ok()) << sys::SysCallName(call) << " #" << nth;
      std::string left = FindLeftovers();
      EXPECT_EQ(left, "") << sys::SysCallName(call) << " #" << nth;
      EXPECT_THAT(MountPointsUnder(tmp_.path()), ::testing::IsEmpty())
          << sys::SysCallName(call) << " #" << nth;
      if (!left.empty()) {
        (void)UnmountRootfs(real_, paths_);
        (void)RemoveWritableLayer(real_, paths_);
      }
      ++faults;
    }
  }
  EXPECT_GT(faults, 10);
}

}  // namespace
}  // namespace podsandbox::container
