// Validation of a pod sandbox's configuration, run before any side effect.
//
// Each failure is InvalidArgument and names the offending field by its CRI
// path ("config.metadata.uid: must not be empty"), so a kubelet event tells
// the user exactly what to fix.
#ifndef PODSANDBOX_SANDBOX_VALIDATION_H_
#define PODSANDBOX_SANDBOX_VALIDATION_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "sandbox/pod_config.h"
#include "userns/id_mapping.h"

namespace podsandbox::sandbox {

// Checks metadata (name, namespace and uid printable ASCII without space,
// ';' or '=', which would split CNI_ARGS; at most 253, 63, 253 bytes),
// hostname, log_directory and cgroup_parent (absolute, clean; cgroup_parent
// under `limits.cgroup_parent_prefix`), DNS servers, searches and options, port
// mappings, sysctls, namespace modes, user namespace mappings (with
// `policy`) and the sizes `limits` bounds. InvalidArgument naming the
// field on the first failure. Pure: no side effect, thread-safe.
absl::Status ValidatePodConfig(const PodConfig& config,
                               const userns::MappingPolicy& policy,
                               const PodLimits& limits = {});

// Why `path` is not an absolute, clean path ("" when it is): it must start
// with '/', and have no empty, "." or ".." component (so no "//" and no
// trailing '/', except "/" itself) and no control character.
std::string UncleanPathReason(absl::string_view path);

// Checks that others may search (o+x) every existing directory from "/"
// down to `dir` itself: runc and crun enter the rootfs and bundle under the
// state directory as the pod's root, a host uid with no other right, so a
// 0700 ancestor (mkdtemp's mode, /root) fails every user-namespaced pod at
// create with "permission denied". FailedPrecondition naming the directory
// that needs o+x. Reads only (stat(2)); thread-safe.
absl::Status CheckSearchableByOthers(absl::string_view dir);

// Checks one sysctl: a name of [a-z0-9_] segments joined by '.' or '/', with
// no empty segment; a value with no newline; and a name the kernel
// namespaces in a namespace the pod owns (net.* needs a pod network
// namespace; kernel.shm*, kernel.msg*, kernel.sem and fs.mqueue.* need a
// pod IPC namespace). Anything else would write the host's setting: the
// path by which CVE-2022-0811 (cr8escape) reached host root.
absl::Status ValidateSysctl(absl::string_view name, absl::string_view value,
                            const NamespaceOptions& namespaces);

// The sysctl's name with '/' separators turned into '.'.
std::string CanonicalSysctlName(absl::string_view name);

}  // namespace podsandbox::sandbox

#endif  // PODSANDBOX_SANDBOX_VALIDATION_H_
