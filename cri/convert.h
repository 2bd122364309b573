// Conversions between the CRI v1 wire types (cri/api.proto) and the
// library's plain C++ types (sandbox/pod_config.h, sandbox/controller.h).
//
// Only the wire format is checked here: an enum value outside the CRI's
// list is InvalidArgument naming the field by its CRI path
// ("config.port_mappings[1].protocol: unknown value 7"), because proto3
// keeps unknown enum numbers and a cast would smuggle them into the
// library. Everything semantic (empty names, mapping overlaps, sysctls) is
// the library's validation, which names fields with the same paths.
//
// Fields of PodSandboxConfig a pause-only sandbox has no use for (SELinux,
// seccomp, AppArmor, run_as_*, resources, windows) are accepted and
// ignored, as the CRI lets a runtime do for options it does not implement.
//
// Thread-safe: pure functions.
#ifndef PODSANDBOX_CRI_CONVERT_H_
#define PODSANDBOX_CRI_CONVERT_H_

#include "absl/status/statusor.h"
#include "cri/api.pb.h"
#include "sandbox/controller.h"
#include "sandbox/pod_config.h"

namespace podsandbox::cri {

// A RunPodSandboxRequest's config. A missing userns_options means the
// host's user namespace (mode NODE), as containerd and CRI-O read it: a
// kubelet older than user namespace support never sets it.
absl::StatusOr<sandbox::PodConfig> FromCri(
    const runtime::v1::PodSandboxConfig& config);

// A ListPodSandboxRequest's filter. An empty id means any id.
absl::StatusOr<sandbox::ListFilter> FromCri(
    const runtime::v1::PodSandboxFilter& filter);

// The inverse of FromCri for a config: what PodSandboxStatus reports and
// what podsandboxctl prints.
runtime::v1::PodSandboxConfig ToCri(const sandbox::PodConfig& config);

runtime::v1::PodSandboxMetadata ToCriMetadata(
    const sandbox::PodMetadata& metadata);

runtime::v1::NamespaceOption ToCriNamespaceOption(
    const sandbox::NamespaceOptions& namespaces);

// The PodSandboxStatus message (its `info` map, verbose only, is the
// caller's: it lives in the response, not the status).
runtime::v1::PodSandboxStatus ToCriStatus(const sandbox::SandboxStatus& status);

// One ListPodSandboxResponse item.
runtime::v1::PodSandbox ToCriPodSandbox(const sandbox::SandboxStatus& status);

runtime::v1::PodSandboxState ToCriState(sandbox::SandboxState state);

}  // namespace podsandbox::cri

#endif  // PODSANDBOX_CRI_CONVERT_H_
