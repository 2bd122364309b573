// A container's root filesystem: an overlay whose lower dirs are its
// image's unpacked layers (image::Store::LayerPath, shared by every
// container of the image and never written) and whose upper dir is the
// container's own writable layer.
//
// For a user-namespaced pod each layer is first cloned as an idmapped mount
// through the pod's user namespace (image/idmap_mount.h), so the container
// sees its image's files owned by its own ids without a chowned copy per
// pod; the upper dir, which no idmap covers, is owned by the host ids of
// the container's root. The idmapped clones are attached only long enough
// for the overlay mount to name them: overlayfs takes private references to
// its layers when it is mounted, so they are detached right after and a
// running container costs one mount, the overlay itself.
//
// Paths:
//   writable_dir/fs, writable_dir/work   upper and work dirs (persistent
//                                        disk: a container's writes can be
//                                        large, so never tmpfs)
//   mountpoint                           where the overlay is mounted
//   scratch_dir/<n>                      attach points of idmapped layers,
//                                        present only inside MountRootfs
//
// MountRootfs is atomic: on error it has undone its own work. Unmount and
// RemoveWritableLayer are idempotent ("already gone" is success), so
// rollback, Remove and restart recovery call the same functions.
// Thread-compatible: calls for different containers may run concurrently.
#ifndef PODSANDBOX_CONTAINER_ROOTFS_H_
#define PODSANDBOX_CONTAINER_ROOTFS_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "sys/sys.h"

namespace podsandbox::container {

struct RootfsPaths {
  std::string writable_dir;
  std::string mountpoint;
  std::string scratch_dir;
};

struct RootfsSpec {
  // Layer directories, base layer first. Empty: an image with no layers
  // (the rootfs is then only the upper dir).
  std::vector<std::string> layers;
  // The pod's user namespace (a pin or /proc/<pid>/ns/user); empty when
  // the pod runs in the host's user namespace: layers are used as they are.
  std::string userns_path;
  // Host ids of the container's root, owner of the upper dir's top (the
  // container's "/"): the pod's mapping of 0, or 0 without a userns.
  uid_t root_uid = 0;
  gid_t root_gid = 0;
};

// Creates writable_dir (0700: only the kernel, with the mounter's creds,
// goes below it), its fs/ and work/, the mountpoint (0755), and mounts the
// overlay. Errors: FailedPrecondition when the host cannot idmap (from
// image::IdmappedMount) or the layer list does not fit in one mount's
// options; NotFound for a missing layer dir; errno-derived otherwise.
absl::Status MountRootfs(sys::Sys& sys, const RootfsPaths& paths,
                         const RootfsSpec& spec);

// Unmounts the overlay and any idmapped layer a crash left attached in
// scratch_dir, and removes the mountpoint and scratch_dir. Does not touch
// writable_dir.
absl::Status UnmountRootfs(sys::Sys& sys, const RootfsPaths& paths);

// Removes writable_dir and everything in it (the container's writes).
// Call after UnmountRootfs.
absl::Status RemoveWritableLayer(sys::Sys& sys, const RootfsPaths& paths);

}  // namespace podsandbox::container

#endif  // PODSANDBOX_CONTAINER_ROOTFS_H_
