// The pod's shared /dev/shm: one tmpfs per pod that owns its IPC
// namespace, mounted by the sandbox on a directory of its own state
// (<state>/shm/<id>) and bind-mounted at /dev/shm by each of the pod's
// containers, so they share POSIX shared memory as they share the IPC
// namespace (a tmpfs per container would split it). kubelet and
// containerd size it 64 MiB (oci::kShmBytes), mode 1777, nosuid, nodev,
// noexec.
//
// The mountpoint's parent (<state>/shm) is root's and 0711: a pod's root,
// a host uid with no other right, reaches its tmpfs by path but can list
// or replace nothing there. The tmpfs root belongs to the pod's root
// (uid=/gid= options) for a user-namespaced pod, so it is writable inside.
#ifndef PODSANDBOX_SANDBOX_POD_SHM_H_
#define PODSANDBOX_SANDBOX_POD_SHM_H_

#include <functional>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "sandbox/pod_files.h"
#include "sys/sys.h"

namespace podsandbox::sandbox {

// The tmpfs's mount data: size, mode and, with `owner`, its uid and gid.
std::string PodShmOptions(std::optional<PodFileOwner> owner);

// Creates `dir` (0700, root's; hidden under the tmpfs once mounted) and
// mounts the pod's tmpfs on it. Atomic: on failure `dir` is removed. The
// errors of mkdir(2) and mount(2), as ErrnoError.
absl::Status MountPodShm(sys::Sys& sys, const std::string& dir,
                         std::optional<PodFileOwner> owner);

// Unmounts (detached: a container still holding a bind of it keeps its
// files until it goes) and removes `dir`. Idempotent: a missing or
// unmounted `dir` is success.
absl::Status UnmountPodShm(sys::Sys& sys, const std::string& dir);

// How the controller makes and removes a pod's /dev/shm directory: the
// two functions above on the host (HostPodShm); tests without root, which
// cannot mount, pass a plain directory's.
struct PodShmOps {
  std::function<absl::Status(const std::string& dir,
                             std::optional<PodFileOwner> owner)>
      mount;
  std::function<absl::Status(const std::string& dir)> unmount;
};
PodShmOps HostPodShm(sys::Sys& sys);

}  // namespace podsandbox::sandbox

#endif  // PODSANDBOX_SANDBOX_POD_SHM_H_
