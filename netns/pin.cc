#include "netns/pin.h"

#include <fcntl.h>
#include <sys/mount.h>

#include <cerrno>
#include <string>

#include "sys/file.h"
#include "sys/status.h"

namespace podsandbox::netns {

absl::Status MakeSharedPinDir(sys::Sys& sys, absl::string_view dir) {
  std::string path(dir);
  RETURN_IF_ERROR(sys::MakeDirs(sys, path, 0755));
  sys::SysResult r =
      sys.Mount("", path.c_str(), "none", MS_SHARED | MS_REC, nullptr);
  if (r.ok()) return absl::OkStatus();
  // EINVAL: not a mount point yet. Bind it onto itself, then share it.
  if (r.err != EINVAL) return sys::ErrnoError(r.err, "make %s shared", path);
  r = sys.Mount(path.c_str(), path.c_str(), "none", MS_BIND | MS_REC, nullptr);
  if (!r.ok()) return sys::ErrnoError(r.err, "bind %s onto itself", path);
  r = sys.Mount("", path.c_str(), "none", MS_SHARED | MS_REC, nullptr);
  if (!r.ok()) {
    (void)sys.Umount2(path.c_str(), MNT_DETACH);  // undo the self-bind
    return sys::ErrnoError(r.err, "make %s shared", path);
  }
  return absl::OkStatus();
}

absl::Status Pin(sys::Sys& sys, absl::string_view namespace_file,
                 absl::string_view pin) {
  std::string source(namespace_file);
  std::string target(pin);
  {
    // Mode 0: nobody opens the file itself, only the mount on top of it.
    ASSIGN_OR_RETURN(
        sys::UniqueFd created,
        sys::OpenFile(sys, target, O_RDONLY | O_CREAT | O_EXCL, 0));
  }
  sys::SysResult r =
      sys.Mount(source.c_str(), target.c_str(), "none", MS_BIND, nullptr);
  if (!r.ok()) {
    (void)sys.Unlink(target.c_str());  // the step leaves nothing on failure
    return sys::ErrnoError(r.err, "bind %s onto %s", source, target);
  }
  return absl::OkStatus();
}

absl::Status Unpin(sys::Sys& sys, absl::string_view pin) {
  std::string path(pin);
  sys::SysResult r = sys.Umount2(path.c_str(), MNT_DETACH);
  // EINVAL: not a mount point; ENOENT: no file. Both: already unpinned.
  if (!r.ok() && r.err != EINVAL && r.err != ENOENT) {
    return sys::ErrnoError(r.err, "unmount pin %s", path);
  }
  return sys::RemoveFileIfExists(sys, path);
}

}  // namespace podsandbox::netns
