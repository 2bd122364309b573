// A container's OCI runtime spec (config.json, runtime-spec 1.0.2 as runc
// 1.1 and crun 1.8 read it), from three sources:
//
//  - the image config: Entrypoint, Cmd, Env, WorkingDir (User is resolved
//    before, by image_user.h, into the ProcessUser passed in);
//  - the CRI ContainerConfig: command/args (merged with the image's as
//    kubelet expects: command replaces Entrypoint and drops Cmd; args alone
//    replace Cmd), envs (override the image's by name), working_dir, mounts,
//    devices, resources and the security context;
//  - the pod (PodContext): the namespaces to join by path, the user
//    namespace's mappings, the cgroup parent, the pod's /etc/hosts,
//    /etc/resolv.conf, /etc/hostname and /dev/shm.
//
// Security defaults, and why (docs/design.md, "Container spec"):
//  - capabilities: containerd's default set, then add/drop (capabilities.h);
//  - seccomp: as the config says (seccomp_profile.h); cri/ maps an absent
//    profile to Unconfined, as containerd does;
//  - masked and read-only paths: the config's lists; when both are empty,
//    Kubernetes' defaults (runc's plus /sys/devices/virtual/powercap) in
//    the host's user namespace, and none in a pod user namespace: that is
//    how kubelet asks for procMount Unmasked, which Kubernetes allows only
//    for user-namespaced pods, and the pod's root has no privilege over
//    the host-owned files those paths hide;
//  - privileged: every capability the daemon holds, no seccomp, no masked
//  paths, writable
//    sysfs and cgroupfs. In the host's user namespace also every host
//    device; in a pod user namespace no host device (their nodes belong to
//    the host's root, whom the pod does not map) and the device cgroup
//    keeps its allowlist: "privileged" means privileged over the pod's own
//    namespaces, which the kernel confines (capabilities of a non-initial
//    user namespace grant nothing over the host's resources);
//  - no_new_privs as asked (never for privileged), a read-only root when
//    asked, no hostname change (the UTS namespace is the pod's).
//
// Thread-safe. Reads (never writes) the host: a Localhost seccomp profile,
// device nodes (stat), and /dev for a privileged container's devices.
#ifndef PODSANDBOX_CONTAINER_SPEC_H_
#define PODSANDBOX_CONTAINER_SPEC_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "container/container_config.h"
#include "container/pod_context.h"
#include "image/manifest.h"
#include "nlohmann/json.hpp"
#include "sys/sys.h"

namespace podsandbox::container {

// What the spec needs from the host, probed once at daemon start.
struct HostFeatures {
  // AppArmor is enabled (/sys/module/apparmor/parameters/enabled is "Y").
  bool apparmor = false;
  // The profile for apparmor RuntimeDefault, loaded by the administrator;
  // empty: none, and RuntimeDefault leaves the process unconfined, as on a
  // host without AppArmor (podsandboxd does not load profiles).
  std::string apparmor_default_profile;
  // The host's /dev/mqueue is an mqueue mount (oci::IsMqueueMount): a
  // host-IPC container binds it, and gets none otherwise.
  bool host_mqueue = false;
  // The capabilities podsandboxd holds (HeldCapabilities): what privileged
  // and "ALL" give a container. nullopt: every capability the kernel
  // defines.
  std::optional<std::vector<std::string>> held_capabilities;
};

// Probes `HostFeatures::apparmor` from sysfs (false when absent),
// `host_mqueue`, and `held_capabilities` from /proc/self/status (nullopt,
// logged, when unreadable).
HostFeatures ProbeHostFeatures();

// The process argv: the config's command and args merged with the image's
// Entrypoint and Cmd (Docker's and containerd's rule):
//   command set       -> command + args        (Cmd dropped)
//   only args set     -> Entrypoint + args
//   neither           -> Entrypoint + Cmd
// InvalidArgument naming config.command when the result is empty.
absl::StatusOr<std::vector<std::string>> ProcessArgs(
    const ContainerConfig& config, const image::ImageConfig& image);

// The process environment: HOSTNAME (the pod's), then the image's Env,
// then the config's envs; a later entry replaces an earlier one with the
// same name in place. PATH gets the usual default when nobody sets it.
std::vector<std::string> ProcessEnv(const ContainerConfig& config,
                                    const image::ImageConfig& image,
                                    const PodContext& pod);

// linux.maskedPaths and linux.readonlyPaths (see the file comment).
struct ProcPaths {
  std::vector<std::string> masked;
  std::vector<std::string> readonly;
};
ProcPaths MaskedAndReadonlyPaths(const SecurityContext& security,
                                 const PodContext& pod);

// Kubernetes' default masked paths (procMount Default).
const std::vector<std::string>& KubernetesMaskedPaths();

// config.json for container `id` of `pod`, whose root filesystem is the
// directory `rootfs` (absolute; mounted by the caller). `config` must have
// passed ValidateContainerConfig for this pod.
// Errors: InvalidArgument naming the field (no command at all, a Localhost
// seccomp profile that is missing or bad, a device that vanished);
// FailedPrecondition for an AppArmor profile on a host without AppArmor or
// a pod PID namespace without a path.
absl::StatusOr<nlohmann::json> BuildContainerSpec(
    sys::Sys& sys, absl::string_view id, const ContainerConfig& config,
    const image::ImageConfig& image, const PodContext& pod,
    absl::string_view rootfs, const ProcessUser& user,
    const HostFeatures& host = {});

}  // namespace podsandbox::container

#endif  // PODSANDBOX_CONTAINER_SPEC_H_
