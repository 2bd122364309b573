// The seccomp filter of a container's config.json (linux.seccomp):
//  - RuntimeDefault: our default profile, an allowlist in the spirit of
//    containerd's and Docker's defaults, written here as data: the
//    syscalls a normal program uses are allowed, everything else fails with
//    EPERM; syscalls that only make sense with a capability (mount and the
//    namespace calls with CAP_SYS_ADMIN, ptrace with CAP_SYS_PTRACE...) are
//    allowed only when the container has that capability; clone is allowed
//    without namespace flags, and clone3 (whose flags a filter cannot see)
//    answers ENOSYS so libc falls back to clone; io_uring is not allowed
//    (it bypasses seccomp for the operations it performs).
//  - Localhost: a profile file on the host (the kubelet's seccomp root),
//    read bounded, in the OCI format or Docker's (archMap, includes and
//    excludes by capability and architecture, which are resolved here
//    against the container's capabilities and this machine's arch).
//  - Unconfined, and privileged containers: no filter.
//
// Errors: InvalidArgument naming config.linux.security_context.seccomp.
// localhost_ref for a profile file that is missing, not a regular file,
// larger than kMaxSeccompProfileBytes or not a profile. Thread-safe.
#ifndef PODSANDBOX_CONTAINER_SECCOMP_PROFILE_H_
#define PODSANDBOX_CONTAINER_SECCOMP_PROFILE_H_

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "container/container_config.h"
#include "nlohmann/json.hpp"
#include "sys/sys.h"

namespace podsandbox::container {

// Real profiles are tens of KiB; a larger file is refused, not read.
inline constexpr size_t kMaxSeccompProfileBytes = 1 << 20;

// The seccomp architectures of this machine ("SCMP_ARCH_X86_64",
// "SCMP_ARCH_X86", "SCMP_ARCH_X32" on x86-64), native first.
const std::vector<std::string>& NativeSeccompArchitectures();

// The RuntimeDefault profile for a container with capabilities `caps`
// ("CAP_*" names, as ContainerCapabilities gives them).
nlohmann::json RuntimeDefaultSeccomp(const std::vector<std::string>& caps);

// A Localhost profile's JSON text, converted to config.json's form.
// InvalidArgument naming `field` for anything that is not a profile.
absl::StatusOr<nlohmann::json> ParseSeccompProfile(
    absl::string_view text, const std::vector<std::string>& caps,
    absl::string_view field);

// The filter for a container: nullopt for Unconfined and for privileged
// containers; reads the Localhost file through `sys`.
absl::StatusOr<std::optional<nlohmann::json>> SeccompFor(
    sys::Sys& sys, const SecurityProfile& profile, bool privileged,
    const std::vector<std::string>& caps);

}  // namespace podsandbox::container

#endif  // PODSANDBOX_CONTAINER_SECCOMP_PROFILE_H_
