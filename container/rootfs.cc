#include "container/rootfs.h"

#include <fcntl.h>
#include <sys/mount.h>

#include <cerrno>
#include <string>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "image/idmap_mount.h"
#include "sys/file.h"
#include "sys/status.h"
#include "sys/unique_fd.h"

namespace podsandbox::container {
namespace {

// mount(2) copies at most one page of options.
constexpr size_t kMaxMountOptions = 4095;

std::string UpperDir(const RootfsPaths& paths) {
  return absl::StrCat(paths.writable_dir, "/fs");
}

std::string WorkDir(const RootfsPaths& paths) {
  return absl::StrCat(paths.writable_dir, "/work");
}

absl::Status MkdirIfMissing(sys::Sys& sys, const std::string& path,
                            mode_t mode) {
  if (sys::SysResult r = sys.Mkdir(path.c_str(), mode);
      !r.ok() && r.err != EEXIST) {
    return sys::ErrnoError(r.err, "mkdir %s", path);
  }
  return absl::OkStatus();
}

// Unmounts `target` if it is a mount point; EINVAL (not a mount point) and
// ENOENT (no such path) mean already undone.
absl::Status UnmountIfMounted(sys::Sys& sys, const std::string& target) {
  if (sys::SysResult r = sys.Umount2(target.c_str(), MNT_DETACH);
      !r.ok() && r.err != EINVAL && r.err != ENOENT) {
    return sys::ErrnoError(r.err, "umount %s", target);
  }
  return absl::OkStatus();
}

absl::Status RmdirIfExists(sys::Sys& sys, const std::string& path) {
  if (sys::SysResult r = sys.Rmdir(path.c_str()); !r.ok() && r.err != ENOENT) {
    return sys::ErrnoError(r.err, "rmdir %s", path);
  }
  return absl::OkStatus();
}

// Overlay's option syntax gives ',' ':' and '\' meanings; our paths are
// ours (store and state dirs), so one holding them is a configuration
// error rather than something to escape.
absl::Status CheckOverlayPath(const std::string& path) {
  if (path.find_first_of(",:\\") != std::string::npos) {
    return absl::FailedPreconditionError(absl::StrCat(
        "overlay path ", path, ": must not contain ',', ':' or '\\'"));
  }
  return absl::OkStatus();
}

// Detaches the idmapped layers attached under scratch_dir and removes the
// scratch dir; collects what a crash inside MountRootfs left.
absl::Status ClearScratch(sys::Sys& sys, const RootfsPaths& paths) {
  ASSIGN_OR_RETURN(std::vector<std::string> names,
                   sys::ListDir(paths.scratch_dir));
  for (const std::string& name : names) {
    std::string at = absl::StrCat(paths.scratch_dir, "/", name);
    RETURN_IF_ERROR(UnmountIfMounted(sys, at));
    RETURN_IF_ERROR(RmdirIfExists(sys, at));
  }
  return RmdirIfExists(sys, paths.scratch_dir);
}

}  // namespace

absl::Status MountRootfs(sys::Sys& sys, const RootfsPaths& paths,
                         const RootfsSpec& spec) {
  for (const std::string& layer : spec.layers) {
    RETURN_IF_ERROR(CheckOverlayPath(layer));
  }
  RETURN_IF_ERROR(CheckOverlayPath(paths.writable_dir));
  RETURN_IF_ERROR(CheckOverlayPath(paths.scratch_dir));

  bool done = false;
  // Whatever this call made, newest first; the functions are idempotent,
  // so running them over a partial result is fine.
  absl::Cleanup undo = [&] {
    if (done) return;
    UnmountRootfs(sys, paths).IgnoreError();  // best effort: keep the cause
    RemoveWritableLayer(sys, paths).IgnoreError();
  };

  if (sys::SysResult r = sys.Mkdir(paths.writable_dir.c_str(), 0700); !r.ok()) {
    // EEXIST too: a writable layer is never reused.
    return sys::ErrnoError(r.err, "mkdir %s", paths.writable_dir);
  }
  std::string upper = UpperDir(paths), work = WorkDir(paths);
  if (sys::SysResult r = sys.Mkdir(upper.c_str(), 0755); !r.ok()) {
    return sys::ErrnoError(r.err, "mkdir %s", upper);
  }
  // The upper dir's top is the container's "/": owned by its root. No
  // idmap applies to it (only the lowers are idmapped), so the host ids.
  if (sys::SysResult r = sys.Fchownat(AT_FDCWD, upper.c_str(), spec.root_uid,
                                      spec.root_gid, AT_SYMLINK_NOFOLLOW);
      !r.ok()) {
    return sys::ErrnoError(r.err, "chown %s", upper);
  }
  if (sys::SysResult r = sys.Mkdir(work.c_str(), 0700); !r.ok()) {
    return sys::ErrnoError(r.err, "mkdir %s", work);
  }
  RETURN_IF_ERROR(MkdirIfMissing(sys, paths.mountpoint, 0755));

  std::vector<std::string> lowers;
  if (spec.layers.empty()) {
    // overlayfs wants one lower dir at least: an empty one stands in.
    RETURN_IF_ERROR(MkdirIfMissing(sys, paths.scratch_dir, 0700));
    std::string empty = absl::StrCat(paths.scratch_dir, "/empty");
    RETURN_IF_ERROR(MkdirIfMissing(sys, empty, 0755));
    lowers.push_back(empty);
  } else if (spec.userns_path.empty()) {
    // overlay lists the top layer first.
    lowers.assign(spec.layers.rbegin(), spec.layers.rend());
  } else {
    ASSIGN_OR_RETURN(sys::UniqueFd userns,
                     sys::OpenFile(sys, spec.userns_path, O_RDONLY));
    RETURN_IF_ERROR(MkdirIfMissing(sys, paths.scratch_dir, 0700));
    for (size_t i = spec.layers.size(); i-- > 0;) {
      ASSIGN_OR_RETURN(sys::UniqueFd clone,
                       image::IdmappedMount(sys, spec.layers[i], userns.get()));
      // Short names keep many layers within one page of options.
      std::string at = absl::StrCat(paths.scratch_dir, "/", i);
      RETURN_IF_ERROR(MkdirIfMissing(sys, at, 0755));
      RETURN_IF_ERROR(image::AttachMount(sys, clone.get(), at));
      lowers.push_back(at);
    }
  }
  std::string options = absl::StrCat("lowerdir=", absl::StrJoin(lowers, ":"),
                                     ",upperdir=", upper, ",workdir=", work);
  if (options.size() > kMaxMountOptions) {
    return absl::FailedPreconditionError(
        absl::StrCat("overlay for ", paths.mountpoint, ": ", spec.layers.size(),
                     " layers do not fit in one mount's options"));
  }
  if (sys::SysResult r = sys.Mount("overlay", paths.mountpoint.c_str(),
                                   "overlay", 0, options.c_str());
      !r.ok()) {
    return sys::ErrnoError(r.err, "mount overlay on %s", paths.mountpoint);
  }
  // The overlay holds its own references to the layers now. (The empty
  // stand-in stays until UnmountRootfs: it is not a mount.)
  if (absl::Status s =
          spec.layers.empty() ? absl::OkStatus() : ClearScratch(sys, paths);
      !s.ok()) {
    return sys::Annotate(s, "detach idmapped layers");
  }
  done = true;
  return absl::OkStatus();
}

absl::Status UnmountRootfs(sys::Sys& sys, const RootfsPaths& paths) {
  RETURN_IF_ERROR(UnmountIfMounted(sys, paths.mountpoint));
  RETURN_IF_ERROR(RmdirIfExists(sys, paths.mountpoint));
  return ClearScratch(sys, paths);
}

absl::Status RemoveWritableLayer(sys::Sys& sys, const RootfsPaths& paths) {
  return sys::RemoveTree(sys, paths.writable_dir);
}

}  // namespace podsandbox::container
