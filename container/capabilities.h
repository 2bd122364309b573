// Linux capability names and the set a container gets: the default set
// (containerd's, so images behave as under containerd), then the CRI
// config's add and drop lists with Kubernetes' "ALL", within the
// capabilities the daemon itself holds.
//
// Pure functions over constant data; thread-safe.
#ifndef PODSANDBOX_CONTAINER_CAPABILITIES_H_
#define PODSANDBOX_CONTAINER_CAPABILITIES_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "container/container_config.h"

namespace podsandbox::container {

// Every capability the kernel defines up to CAP_CHECKPOINT_RESTORE (40),
// as "CAP_*" in number order.
const std::vector<std::string>& AllCapabilities();

// containerd's default set for a container: CAP_CHOWN, CAP_DAC_OVERRIDE,
// CAP_FSETID, CAP_FOWNER, CAP_MKNOD, CAP_NET_RAW, CAP_SETGID, CAP_SETUID,
// CAP_SETFCAP, CAP_SETPCAP, CAP_NET_BIND_SERVICE, CAP_SYS_CHROOT, CAP_KILL,
// CAP_AUDIT_WRITE.
const std::vector<std::string>& DefaultCapabilities();

// "net_admin", "NET_ADMIN", "CAP_NET_ADMIN" -> "CAP_NET_ADMIN"; "ALL" (any
// case) -> "ALL"; nullopt for a name the kernel does not define.
std::optional<std::string> NormalizeCapability(absl::string_view name);

// The capabilities a process holds and can hand on to what it starts,
// from its /proc/<pid>/status text: CapEff within CapBnd, in
// AllCapabilities() order. A host (or the container podsandboxd runs in)
// may have taken some from the bounding set; the OCI runtime cannot give a
// container a capability it does not hold itself ("unable to apply caps:
// operation not permitted"). Internal when either line is missing or is not
// hexadecimal.
absl::StatusOr<std::vector<std::string>> HeldCapabilities(
    absl::string_view proc_status);

// The container's capability set, in AllCapabilities() order: every
// capability of `held` when privileged; else the default set, where "ALL"
// in `add` starts from every capability of `held` and "ALL" in `drop` from
// none, then the other names of `add` are added and those of `drop`
// removed (containerd's order, so "drop ALL, add NET_BIND_SERVICE" leaves
// just that one). "ALL" and privileged mean what the daemon holds, as in
// containerd (its cap.Current()); a name asked for by itself is kept even
// when not held, so the runtime refuses it rather than the container
// silently lacking it. Names must have passed NormalizeCapability
// (validation.h); unknown ones are ignored.
std::vector<std::string> ContainerCapabilities(
    const Capabilities& caps, bool privileged,
    const std::vector<std::string>& held = AllCapabilities());

}  // namespace podsandbox::container

#endif  // PODSANDBOX_CONTAINER_CAPABILITIES_H_
