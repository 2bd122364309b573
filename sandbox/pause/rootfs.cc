#include "sandbox/pause/rootfs.h"

#include <unistd.h>

#include <atomic>
#include <string>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "sys/file.h"
#include "sys/status.h"

namespace podsandbox::sandbox::pause {
namespace {

// Mount points: runtimes mount proc, sysfs and /dev over these, and could
// not create them in a read-only root.
constexpr const char* kMountPoints[] = {"proc", "sys", "dev", "etc"};

std::string UniqueSibling(absl::string_view dir, absl::string_view what) {
  static std::atomic<int> counter{0};
  return absl::StrCat(dir, ".", what, "-", ::getpid(), "-", counter++);
}

absl::Status Build(sys::Sys& sys, const std::string& tmp,
                   absl::string_view pause) {
  // 0755 all the way: a pod's root, a mapped non-root host uid, must reach
  // and execute /pause.
  if (sys::SysResult r = sys.Mkdir(tmp.c_str(), 0755); !r.ok()) {
    return sys::ErrnoError(r.err, "mkdir %s", tmp);
  }
  for (const char* name : kMountPoints) {
    std::string path = absl::StrCat(tmp, "/", name);
    if (sys::SysResult r = sys.Mkdir(path.c_str(), 0755); !r.ok()) {
      return sys::ErrnoError(r.err, "mkdir %s", path);
    }
  }
  return sys::WriteFileAtomically(sys, absl::StrCat(tmp, "/pause"), pause,
                                  0755);
}

}  // namespace

absl::Status EnsurePauseRootfs(sys::Sys& sys, absl::string_view dir,
                               absl::string_view pause_binary) {
  if (dir.empty() || dir[0] != '/' || dir.back() == '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("pause rootfs ", dir, ": must be absolute"));
  }
  ASSIGN_OR_RETURN(std::string pause, sys::Annotate(sys::ReadFile(pause_binary),
                                                    "read the pause binary"));
  std::string target(dir);
  absl::StatusOr<std::string> existing =
      sys::ReadFile(absl::StrCat(target, "/pause"));
  if (existing.ok() && *existing == pause) return absl::OkStatus();

  std::string tmp = UniqueSibling(target, "new");
  absl::Cleanup remove_tmp = [&sys, tmp] {
    // Best effort: a leftover temp tree is harmless and named as ours.
    sys::RemoveTree(sys, tmp).IgnoreError();
  };
  RETURN_IF_ERROR(Build(sys, tmp, pause));
  std::string old;
  if (sys::SysResult r = sys.Rename(tmp.c_str(), target.c_str()); !r.ok()) {
    // rename(2) replaces only an empty directory: move the outdated or
    // broken tree aside, then retry.
    if (r.err != ENOTEMPTY && r.err != EEXIST) {
      return sys::ErrnoError(r.err, "rename %s to %s", tmp, target);
    }
    old = UniqueSibling(target, "old");
    if (sys::SysResult m = sys.Rename(target.c_str(), old.c_str()); !m.ok()) {
      return sys::ErrnoError(m.err, "rename %s to %s", target, old);
    }
    if (sys::SysResult m = sys.Rename(tmp.c_str(), target.c_str()); !m.ok()) {
      return sys::ErrnoError(m.err, "rename %s to %s", tmp, target);
    }
  }
  if (!old.empty()) {
    // Running sandboxes keep their mounts of the old tree; only the name
    // goes.
    RETURN_IF_ERROR(sys::RemoveTree(sys, old));
  }
  return absl::OkStatus();
}

}  // namespace podsandbox::sandbox::pause
