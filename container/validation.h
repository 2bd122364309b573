// Checks a CreateContainer request before anything is created: every
// field of the ContainerConfig against the rules of the layers below (the
// kernel, the OCI runtime, our spec builder) and against the pod it joins,
// with bounded sizes and counts so one request cannot make the daemon
// write megabytes of config.json or records.
//
// Errors: InvalidArgument naming the field with the CRI's own names and
// the reason ("config.mounts[2].host_path: /data does not exist
// (podsandboxd never creates host paths)"); Unimplemented for stdin and tty
// (they need Attach, a later issue). The first bad field wins.
//
// Reads the host filesystem (stat of mount and device host paths), never
// changes it. Thread-safe.
#ifndef PODSANDBOX_CONTAINER_VALIDATION_H_
#define PODSANDBOX_CONTAINER_VALIDATION_H_

#include <cstddef>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "container/container_config.h"
#include "container/pod_context.h"

namespace podsandbox::container {

// Bounds on one request. The defaults are far above anything kubelet
// sends; they exist so that a request's size is bounded.
struct ContainerLimits {
  // command + args, and envs: execve(2) takes at most 2 MiB of arguments
  // and environment on a default 8 MiB stack.
  size_t max_args = 4096;
  size_t max_envs = 4096;
  size_t max_exec_bytes = 1 << 20;
  // Any one path (container_path, host_path, working_dir, log_path...):
  // PATH_MAX.
  size_t max_path_bytes = 4096;
  size_t max_mounts = 256;
  size_t max_devices = 256;
  // masked_paths and readonly_paths, each.
  size_t max_masked_paths = 256;
  // NGROUPS_MAX is 65536; kubelet sends a handful.
  size_t max_supplemental_groups = 256;
  // Labels and annotations together, keys and values, as for pods.
  size_t max_label_annotation_bytes = 1 << 20;
};

// Checks `config` for a container of `pod`. Beyond the per-field rules:
//  - a privileged container needs a privileged pod (kubelet's and
//    containerd's rule); in a user-namespaced pod it is allowed, with the
//    meaning docs/design.md gives ("privileged" is relative to the pod's
//    user namespace);
//  - run_as_group needs run_as_user or run_as_username (the CRI's rule);
//  - run_as_user, run_as_group and supplemental_groups must be mapped by
//    the pod's user namespace, when it has one;
//  - every mount's host path exists, every device's host path is a device
//    node;
//  - a Bidirectional mount's host path is on a shared mount, and a
//    HostToContainer one's on a shared or slave mount (containerd's rule:
//    otherwise nothing would propagate, silently). FailedPrecondition, the
//    host's state, naming config.mounts[i].propagation.
absl::Status ValidateContainerConfig(const ContainerConfig& config,
                                     const PodContext& pod,
                                     const ContainerLimits& limits = {});

// How the mount that holds `path` propagates, from mountinfo text (see
// proc(5)): the last line whose mount point is `path` or one of its
// parents, longest first (a later mount on the same point covers an
// earlier one). `path` must be absolute, clean and free of symlinks.
// A line that cannot be read is skipped; no match at all is kPrivate.
enum class HostPropagation { kPrivate, kShared, kSlave };
HostPropagation HostPropagationOf(absl::string_view mountinfo,
                                  absl::string_view path);

}  // namespace podsandbox::container

#endif  // PODSANDBOX_CONTAINER_VALIDATION_H_
