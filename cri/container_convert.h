// Conversions between the CRI v1 ContainerConfig (cri/api.proto) and the
// container layer's plain ContainerConfig (container/container_config.h).
//
// Only the wire format is judged here, with fields named by their CRI path
// ("config.mounts[1].propagation: unknown value 7"): enum numbers outside
// the CRI's lists (proto3 keeps them, and a cast would smuggle them in),
// and fields podsandboxd cannot honour, which must not be dropped in
// silence: id-mapped or image mounts (upstream fields our proto leaves out,
// seen as unknown fields), ambient capabilities, supplemental groups policy
// Strict (Unimplemented). Everything semantic is container/validation.h's.
//
// Read and deliberately ignored: selinux_relabel and selinux_options (no
// SELinux here); namespace_options (a container joins its sandbox's
// namespaces, which the sandbox's config chose); hugepage_limits (kubelet
// sends one per page size, limit 0 for most; the pod cgroup carries any
// real limit) and unified (cgroup v2 key/values kubelet sets for memory
// QoS; not applied yet: TODO(K): issue 16).
//
// Seccomp: the `seccomp` message when present, else the deprecated
// seccomp_profile_path ("runtime/default", "docker/default", "unconfined",
// "localhost/<path>"), else Unconfined: the CRI's meaning, as in containerd
// and critest (kubelet sends RuntimeDefault explicitly when a pod asks).
// AppArmor likewise with apparmor / apparmor_profile; absent stays absent.
//
// Thread-safe: pure functions.
#ifndef PODSANDBOX_CRI_CONTAINER_CONVERT_H_
#define PODSANDBOX_CRI_CONTAINER_CONVERT_H_

#include "absl/status/statusor.h"
#include "container/container_config.h"
#include "cri/api.pb.h"

namespace podsandbox::cri {

// A CreateContainerRequest's config. Errors: InvalidArgument or
// Unimplemented naming the field, as the file comment says.
absl::StatusOr<container::ContainerConfig> ContainerConfigFromCri(
    const runtime::v1::ContainerConfig& config);

// The inverse, for ContainerStatus and podsandboxctl: every field the
// struct keeps, in the non-deprecated form.
runtime::v1::ContainerConfig ContainerConfigToCri(
    const container::ContainerConfig& config);

}  // namespace podsandbox::cri

#endif  // PODSANDBOX_CRI_CONTAINER_CONVERT_H_
