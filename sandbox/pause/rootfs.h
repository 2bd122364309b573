// The pause containers' root filesystem: /pause plus the empty mount
// points a runtime mounts over (proc, sys, dev, etc). Built once at
// runtime, then shared read-only by every sandbox: no image, no pull.
//
// Thread-safe; concurrent callers (also in other processes) each build in
// their own temp directory and the last rename wins with identical
// content.
#ifndef PODSANDBOX_SANDBOX_PAUSE_ROOTFS_H_
#define PODSANDBOX_SANDBOX_PAUSE_ROOTFS_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "sys/sys.h"

namespace podsandbox::sandbox::pause {

// Makes `dir` (absolute; its parent must exist) a pause rootfs whose
// /pause is a copy of `pause_binary`. Idempotent: an existing rootfs with
// the same /pause is left alone. Atomic for readers: the tree is built
// beside `dir` and renamed into place, so nobody sees it half-made; an
// outdated one is moved aside first and removed after, so there is a
// moment in which `dir` does not exist.
// Errors: InvalidArgument for a relative `dir`; NotFound if
// `pause_binary` does not exist; the failing syscall's otherwise (the temp
// tree is removed).
absl::Status EnsurePauseRootfs(sys::Sys& sys, absl::string_view dir,
                               absl::string_view pause_binary);

}  // namespace podsandbox::sandbox::pause

#endif  // PODSANDBOX_SANDBOX_PAUSE_ROOTFS_H_
