#include "image/idmap_mount.h"

#include <fcntl.h>
#include <sys/mount.h>

#include <cerrno>
#include <string>

#include "absl/strings/str_cat.h"
#include "sys/status.h"

namespace podsandbox::image {

absl::StatusOr<sys::UniqueFd> IdmappedMount(sys::Sys& sys,
                                            absl::string_view src_dir,
                                            int userns_fd) {
  std::string src(src_dir);
  // A clone, not the tree itself: the mapping must apply to this copy
  // only, and an idmap can only be set on a mount not yet attached.
  sys::SysResult tree =
      sys.OpenTree(AT_FDCWD, src.c_str(),
                   OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
  if (!tree.ok()) return sys::ErrnoError(tree.err, "open_tree %s", src);
  sys::UniqueFd fd(static_cast<int>(tree.value));
  struct mount_attr attr = {};
  attr.attr_set = MOUNT_ATTR_IDMAP;
  attr.userns_fd = static_cast<uint64_t>(userns_fd);
  sys::SysResult set = sys.MountSetattr(
      fd.get(), "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr));
  if (!set.ok()) {
    switch (set.err) {
      // ENOSYS: no mount_setattr; EINVAL/EOPNOTSUPP: the filesystem (or a
      // mount below) does not support idmapping; EPERM: not allowed here.
      case ENOSYS:
      case EINVAL:
      case EOPNOTSUPP:
      case EPERM:
        return absl::FailedPreconditionError(absl::StrCat(
            "idmapped mount of ", src, " not supported on this host: ",
            sys::ErrnoError(set.err, "mount_setattr").message()));
      default:
        return sys::ErrnoError(set.err, "mount_setattr idmap %s", src);
    }
  }
  return fd;
}

absl::Status AttachMount(sys::Sys& sys, int mount_fd,
                         absl::string_view target) {
  std::string to(target);
  if (sys::SysResult r = sys.MoveMount(mount_fd, "", AT_FDCWD, to.c_str(),
                                       MOVE_MOUNT_F_EMPTY_PATH);
      !r.ok()) {
    return sys::ErrnoError(r.err, "move_mount to %s", to);
  }
  return absl::OkStatus();
}

}  // namespace podsandbox::image
