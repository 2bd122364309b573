// Idmapped layer mounts on this host's kernel: ids seen through the mount,
// and overlayfs over idmapped lower layers (what a user-namespaced
// container's rootfs is made of).
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "image/idmap_mount.h"
#include "image/testing/userns.h"
#include "sys/file.h"
#include "sys/real_sys.h"
#include "sys/testing/faulty_sys.h"
#include "sys/testing/leak_check.h"
#include "sys/testing/status_matchers.h"
#include "sys/testing/temp_dir.h"
#include "sys/unique_fd.h"

namespace podsandbox::image {
namespace {

using ::podsandbox::sys::testing::IsOk;
using ::podsandbox::sys::testing::IsOkAndHolds;
using ::podsandbox::sys::testing::StatusIs;

// Where the test user namespace (image/testing/userns.h) maps id 0.
constexpr uid_t kHostBase = 100000;

class IdmapMountTest : public sys::LeakCheckedTest {
 protected:
  // A layer directory with files owned by 0 and by 1000.
  void MakeLayer(const std::string& dir, const std::string& file) {
    ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0);
    ASSERT_THAT(sys::WriteFileAtomically(real_, dir + "/" + file, file, 0644),
                IsOk());
    ASSERT_EQ(::chown((dir + "/" + file).c_str(), 0, 0), 0);
    ASSERT_THAT(
        sys::WriteFileAtomically(real_, dir + "/" + file + "-1000", "", 0644),
        IsOk());
    ASSERT_EQ(::chown((dir + "/" + file + "-1000").c_str(), 1000, 1000), 0);
  }

  sys::RealSys real_;
  sys::TempDir tmp_;
};

uid_t OwnerOf(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return static_cast<uid_t>(-1);
  return st.st_uid;
}

TEST_F(IdmapMountTest, FilesOwnedByZeroAppearAsTheNamespacesHostId) {
  MakeLayer(tmp_.Sub("layer"), "f");
  ASSERT_OK_AND_ASSIGN(sys::UniqueFd userns, testing::MakeUserns(kHostBase));
  ASSERT_OK_AND_ASSIGN(sys::UniqueFd mnt,
                       IdmappedMount(real_, tmp_.Sub("layer"), userns.get()));
  // Detached, the mount is already usable through its fd.
  struct stat st;
  ASSERT_EQ(::fstatat(mnt.get(), "f", &st, 0), 0);
  EXPECT_EQ(st.st_uid, kHostBase);
  EXPECT_EQ(st.st_gid, kHostBase);

  ASSERT_EQ(::mkdir(tmp_.Sub("mnt").c_str(), 0755), 0);
  ASSERT_THAT(AttachMount(real_, mnt.get(), tmp_.Sub("mnt")), IsOk());
  absl::Cleanup unmount = [&] {
    ::umount2(tmp_.Sub("mnt").c_str(), MNT_DETACH);
  };
  EXPECT_EQ(OwnerOf(tmp_.Sub("mnt/f")), kHostBase);
  EXPECT_EQ(OwnerOf(tmp_.Sub("mnt/f-1000")), kHostBase + 1000);
  // The layer itself is unchanged.
  EXPECT_EQ(OwnerOf(tmp_.Sub("layer/f")), 0u);
  EXPECT_THAT(sys::ReadFile(tmp_.Sub("mnt/f")), IsOkAndHolds("f"));
}

TEST_F(IdmapMountTest, OverlayOverIdmappedLowerLayers) {
  MakeLayer(tmp_.Sub("base"), "a");
  MakeLayer(tmp_.Sub("top"), "b");
  ASSERT_OK_AND_ASSIGN(sys::UniqueFd userns, testing::MakeUserns(kHostBase));
  std::vector<std::string> attached;
  absl::Cleanup unmount = [&] {
    for (auto it = attached.rbegin(); it != attached.rend(); ++it) {
      ::umount2(it->c_str(), MNT_DETACH);
    }
  };
  for (const char* layer : {"base", "top"}) {
    ASSERT_OK_AND_ASSIGN(sys::UniqueFd mnt,
                         IdmappedMount(real_, tmp_.Sub(layer), userns.get()));
    std::string at = tmp_.Sub(absl::StrCat(layer, "-idmapped"));
    ASSERT_EQ(::mkdir(at.c_str(), 0755), 0);
    ASSERT_THAT(AttachMount(real_, mnt.get(), at), IsOk());
    attached.push_back(at);
  }
  // Read-only overlay of the two idmapped lowers (top first).
  std::string merged = tmp_.Sub("merged");
  ASSERT_EQ(::mkdir(merged.c_str(), 0755), 0);
  std::string options = absl::StrCat("lowerdir=", tmp_.Sub("top-idmapped"), ":",
                                     tmp_.Sub("base-idmapped"));
  ASSERT_EQ(
      ::mount("overlay", merged.c_str(), "overlay", MS_RDONLY, options.c_str()),
      0)
      << strerror(errno);
  attached.push_back(merged);
  EXPECT_EQ(OwnerOf(merged + "/a"), kHostBase);
  EXPECT_EQ(OwnerOf(merged + "/b-1000"), kHostBase + 1000);
  EXPECT_THAT(sys::ReadFile(merged + "/b"), IsOkAndHolds("b"));

  // Writable: an upper dir owned by the namespace's root on the host, as
  // a container's would be.
  std::string upper = tmp_.Sub("upper"), work = tmp_.Sub("work"),
              rw = tmp_.Sub("rw");
  for (const std::string& d : {upper, work, rw}) {
    ASSERT_EQ(::mkdir(d.c_str(), 0755), 0);
  }
  ASSERT_EQ(::chown(upper.c_str(), kHostBase, kHostBase), 0);
  ASSERT_EQ(::chown(work.c_str(), kHostBase, kHostBase), 0);
  std::string rw_options =
      absl::StrCat(options, ",upperdir=", upper, ",workdir=", work);
  ASSERT_EQ(::mount("overlay", rw.c_str(), "overlay", 0, rw_options.c_str()), 0)
      << strerror(errno);
  attached.push_back(rw);
  EXPECT_EQ(OwnerOf(rw + "/a"), kHostBase);
  ASSERT_THAT(sys::WriteFileAtomically(real_, rw + "/new", "x", 0644), IsOk());
  EXPECT_THAT(sys::ReadFile(upper + "/new"), IsOkAndHolds("x"));
}

TEST_F(IdmapMountTest, FailuresAreReported) {
  MakeLayer(tmp_.Sub("layer"), "f");
  ASSERT_OK_AND_ASSIGN(sys::UniqueFd userns, testing::MakeUserns(kHostBase));
  EXPECT_THAT(IdmappedMount(real_, tmp_.Sub("missing"), userns.get()),
              StatusIs(absl::StatusCode::kNotFound));
  // Not a user namespace fd: the kernel refuses the idmap.
  sys::UniqueFd not_ns(::open("/", O_RDONLY | O_CLOEXEC));
  EXPECT_THAT(IdmappedMount(real_, tmp_.Sub("layer"), not_ns.get()),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  for (sys::SysCall call :
       {sys::SysCall::kOpenTree, sys::SysCall::kMountSetattr}) {
    sys::FaultySys faulty(real_);
    faulty.FailNth(call, 1, ENOMEM);
    EXPECT_THAT(IdmappedMount(faulty, tmp_.Sub("layer"), userns.get()),
                StatusIs(absl::StatusCode::kResourceExhausted));
    EXPECT_EQ(faulty.fired(call), 1);
  }
  sys::FaultySys faulty(real_);
  faulty.FailNth(sys::SysCall::kMoveMount, 1, ENOMEM);
  ASSERT_OK_AND_ASSIGN(sys::UniqueFd mnt,
                       IdmappedMount(real_, tmp_.Sub("layer"), userns.get()));
  EXPECT_THAT(AttachMount(faulty, mnt.get(), tmp_.path()),
              StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_EQ(faulty.fired(sys::SysCall::kMoveMount), 1);
}

}  // namespace
}  // namespace podsandbox::image
