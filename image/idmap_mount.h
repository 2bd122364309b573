// Idmapped mounts of layer directories, so that a container in a user
// namespace sees its image's files owned by its own ids without a chowned
// copy per pod (mount_setattr(2), MOUNT_ATTR_IDMAP).
//
// What works here (kernel 6.18, layers on ext4; checked by
// idmap_mount_privileged_test): an idmapped mount of a layer directory
// shows a file owned by 0 on disk as the user namespace's host id for 0
// (e.g. 100000 for "0 100000 65536"); overlayfs mounted with idmapped
// mounts as its lower dirs (attached with move_mount(2), named by path in
// lowerdir=) shows the layers' files with the mapped owners, read-only and
// also with a plain (not idmapped) upper dir owned by the namespace's root,
// where writes land.
//
// A host that cannot (an old kernel, a filesystem without idmap support)
// fails IdmappedMount with FailedPrecondition: callers refuse user-
// namespaced containers with that error rather than chown a copy silently.
#ifndef PODSANDBOX_IMAGE_IDMAP_MOUNT_H_
#define PODSANDBOX_IMAGE_IDMAP_MOUNT_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "sys/sys.h"
#include "sys/unique_fd.h"

namespace podsandbox::image {

// A detached mount (not attached anywhere, so invisible and gone when the
// fd is closed unless attached) of the tree at `src_dir`, recursively,
// whose ids are mapped through the user namespace `userns_fd` (an fd of
// /proc/<pid>/ns/user or a pin of it). The caller owns the fd; the
// namespace fd is not kept.
// Errors: FailedPrecondition when the kernel or filesystem cannot idmap
// (names the dir and the reason); NotFound for a missing `src_dir`;
// otherwise errno-derived. Thread-safe.
absl::StatusOr<sys::UniqueFd> IdmappedMount(sys::Sys& sys,
                                            absl::string_view src_dir,
                                            int userns_fd);

// Attaches the detached mount `mount_fd` at `target`, an existing
// directory (move_mount(2)). Undo with umount2(target, MNT_DETACH).
absl::Status AttachMount(sys::Sys& sys, int mount_fd, absl::string_view target);

}  // namespace podsandbox::image

#endif  // PODSANDBOX_IMAGE_IDMAP_MOUNT_H_
