// The pause container's OCI runtime spec (config.json, runtime-spec 1.0.2)
// from a TaskSpec, for one runtime type.
//
// What it contains and why:
//  - process /pause as 65535:65535 (0:0 when the pod's mappings do not
//    cover 65535), no capabilities, noNewPrivileges, read-only root;
//  - /proc, /dev (tmpfs), /dev/pts, /dev/shm (64 MiB), /dev/mqueue (with
//    host IPC: the host's, when it has one mounted; else none), /sys:
//    sysfs read-only, except with a user namespace and host network, where
//    the pod's root has no CAP_SYS_ADMIN over the host's netns and so cannot
//    mount sysfs: then a recursive read-only bind of the host's /sys;
//  - namespaces: pid and ipc unless host, uts unless host network, mount,
//    network by pin path unless host network, user by pin path with the
//    very mappings the pinned namespace has (runc rejects mismatching
//    ones; crun uses them to chown the cgroup). runsc cannot join a user
//    namespace, so for runsc the mappings go without the path;
//  - cgroupsPath <cgroup_parent>/<id> (cgroupfs), sysctls, runc's default
//    masked and read-only paths, and the annotations by which runtimes
//    (runsc above all) recognise the sandbox container.
//
// Pure functions of their arguments (but IsMqueueMount); thread-safe.
#ifndef PODSANDBOX_OCI_SPEC_H_
#define PODSANDBOX_OCI_SPEC_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"
#include "oci/runtime_type.h"
#include "oci/task_spec.h"
#include "userns/id_mapping.h"

namespace podsandbox::oci {

// The pause process's uid and gid.
inline constexpr uint32_t kPauseId = 65535;
// Size of the pod's /dev/shm.
inline constexpr int kShmBytes = 64 << 20;

// runc's default masked paths (kernel interfaces a container has no business
// reading) and read-only paths (nor writing). Kubernetes' defaults for
// procMount Default are these too (plus what container/spec.h adds).
const std::vector<std::string>& DefaultMaskedPaths();
const std::vector<std::string>& DefaultReadonlyPaths();

// One config.json mount entry.
nlohmann::json MountEntry(absl::string_view destination, absl::string_view type,
                          absl::string_view source,
                          std::vector<std::string> options);

struct KernelMountOptions {
  // The mappings of the user namespace the process runs in; null: the
  // host's.
  const userns::IdMappings* id_mappings = nullptr;
  bool host_network = false;
  bool host_ipc = false;
  // With host_ipc: the host's /dev/mqueue is an mqueue mount
  // (IsMqueueMount), so it is bound in; without one the pod gets none.
  bool host_mqueue = false;
  bool privileged = false;
};

// Whether `path` is an mqueue filesystem (statfs(2)); false when absent.
// Reads the host: call it once per spec, not from the pure builders.
bool IsMqueueMount(absl::string_view path);

// The kernel filesystems of a pod's process, in mount order: /proc, /dev
// (tmpfs), /dev/pts, /dev/shm, /dev/mqueue and /sys, with the rules the
// file comment lists (the host's shm, and its mqueue when it has one
// mounted, with host IPC; sysfs
// read-write only when privileged; a read-only bind of the host's /sys for
// a user namespace with host network). The pause and every container of
// the pod get the same; a container may replace /dev/shm by the pod's.
nlohmann::json KernelMounts(const KernelMountOptions& options);

// Checks every field of `spec`; InvalidArgument naming the field
// ("task.cgroup_parent: must be absolute") on the first bad one.
absl::Status ValidateTaskSpec(const TaskSpec& spec);

// config.json for `spec` on a runtime of `type`, whose root filesystem is
// the directory `rootfs` (absolute, read-only, shared by every sandbox).
// Errors: InvalidArgument from ValidateTaskSpec, or for a relative rootfs.
absl::StatusOr<nlohmann::json> BuildOciSpec(const TaskSpec& spec,
                                            RuntimeType type,
                                            absl::string_view rootfs);

// ID mappings as the OCI spec spells them ({containerID, hostID, size}),
// for config.json and for what Status reports.
nlohmann::json OciIdMappings(const std::vector<userns::IdMapping>& list);

// The uid (and gid) the pause runs as: kPauseId, or 0 when the mappings do
// not cover kPauseId. InvalidArgument when they cover neither.
absl::StatusOr<uint32_t> PauseUser(const TaskSpec& spec);

// Whether the host lets a runtime give the pause `oom_score_adj`: lowering
// it below 0 needs CAP_SYS_RESOURCE. Without it runc fails with only "can't
// get final child's PID from pipe: EOF", so this says why up front.
// FailedPrecondition when refused.
absl::Status CheckOomScoreAdj(int oom_score_adj, bool has_cap_sys_resource);

}  // namespace podsandbox::oci

#endif  // PODSANDBOX_OCI_SPEC_H_
