// Idmapped layer mounts on this host's kernel: ids seen through the mount,
// and overlayfs over idmapped lower layers (what a user-namespaced
// container's rootfs is made of).
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "image/idmap_mount.h"
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

constexpr uid_t kHostBase = 100000;

// A user namespace mapping 0..65535 to kHostBase..: a child unshares it
// and waits while we write its maps from outside (a process cannot map
// ids it does not own from inside) and open /proc/<pid>/ns/user, which
// keeps the namespace alive after the child exits.
sys::UniqueFd MakeUserns() {
  int ready[2], done[2];
  if (::pipe2(ready, O_CLOEXEC) != 0 || ::pipe2(done, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe2";
    return sys::UniqueFd();
  }
  pid_t pid = ::fork();
  if (pid == 0) {
    // Only the parent's copy of the write end may keep `done` open.
    ::close(done[1]);
    char c = ::unshare(CLONE_NEWUSER) == 0 ? 'k' : 'e';
    (void)!::write(ready[1], &c, 1);
    (void)!::read(done[0], &c, 1);  // until the parent closes it
    ::_exit(0);
  }
  ::close(ready[1]);
  ::close(done[0]);
  sys::UniqueFd done_write(done[1]);
  char c = 0;
  bool unshared = ::read(ready[0], &c, 1) == 1 && c == 'k';
  ::close(ready[0]);
  sys::UniqueFd ns;
  if (unshared) {
    std::string map = absl::StrCat("0 ", kHostBase, " 65536");
    for (const char* file : {"uid_map", "gid_map"}) {
      sys::UniqueFd fd(::open(absl::StrCat("/proc/", pid, "/", file).c_str(),
                              O_WRONLY | O_CLOEXEC));
      EXPECT_EQ(::write(fd.get(), map.data(), map.size()),
                static_cast<ssize_t>(map.size()))
          << file;
    }
    ns.reset(::open(absl::StrCat("/proc/", pid, "/ns/user").c_str(),
                    O_RDONLY | O_CLOEXEC));
  }
  done_write.reset();
  ::waitpid(pid, nullptr, 0);
  EXPECT_TRUE(ns.valid()) << "user namespace";
  return ns;
}

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
  sys::UniqueFd userns = MakeUserns();
  ASSERT_TRUE(userns.valid());
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
  sys::UniqueFd userns = MakeUserns();
  ASSERT_TRUE(userns.valid());
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
  sys::UniqueFd userns = MakeUserns();
  ASSERT_TRUE(userns.valid());
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
