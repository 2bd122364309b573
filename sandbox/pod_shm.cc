#include "sandbox/pod_shm.h"

#include <errno.h>
#include <sys/mount.h>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "oci/spec.h"
#include "sys/status.h"

namespace podsandbox::sandbox {

std::string PodShmOptions(std::optional<PodFileOwner> owner) {
  std::string options = absl::StrCat("mode=1777,size=", oci::kShmBytes);
  if (owner.has_value()) {
    absl::StrAppend(&options, ",uid=", owner->uid, ",gid=", owner->gid);
  }
  return options;
}

absl::Status MountPodShm(sys::Sys& sys, const std::string& dir,
                         std::optional<PodFileOwner> owner) {
  if (sys::SysResult r = sys.Mkdir(dir.c_str(), 0700); !r.ok()) {
    return sys::ErrnoError(r.err, "mkdir %s", dir);
  }
  absl::Cleanup remove = [&sys, &dir] {
    // Best effort: the error being returned says what failed.
    (void)sys.Rmdir(dir.c_str());
  };
  const std::string options = PodShmOptions(owner);
  if (sys::SysResult r =
          sys.Mount("shm", dir.c_str(), "tmpfs",
                    MS_NOSUID | MS_NODEV | MS_NOEXEC, options.c_str());
      !r.ok()) {
    return sys::ErrnoError(r.err, "mount pod shm tmpfs on %s", dir);
  }
  std::move(remove).Cancel();
  return absl::OkStatus();
}

absl::Status UnmountPodShm(sys::Sys& sys, const std::string& dir) {
  // EINVAL: not a mountpoint (unmounted already, or the mount never
  // happened); ENOENT: the directory is gone too.
  if (sys::SysResult r = sys.Umount2(dir.c_str(), MNT_DETACH);
      !r.ok() && r.err != EINVAL && r.err != ENOENT) {
    return sys::ErrnoError(r.err, "unmount pod shm %s", dir);
  }
  if (sys::SysResult r = sys.Rmdir(dir.c_str()); !r.ok() && r.err != ENOENT) {
    return sys::ErrnoError(r.err, "rmdir %s", dir);
  }
  return absl::OkStatus();
}

PodShmOps HostPodShm(sys::Sys& sys) {
  return {[&sys](const std::string& dir, std::optional<PodFileOwner> owner) {
            return MountPodShm(sys, dir, owner);
          },
          [&sys](const std::string& dir) { return UnmountPodShm(sys, dir); }};
}

}  // namespace podsandbox::sandbox
