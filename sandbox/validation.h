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

// Checks metadata, hostname, DNS servers, port mappings, sysctls, namespace
// modes and user namespace mappings (with `policy`).
absl::Status ValidatePodConfig(const PodConfig& config,
                               const userns::MappingPolicy& policy);

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
