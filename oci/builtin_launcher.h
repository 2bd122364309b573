// The built-in pause launcher: starts the pause of a pod sandbox from the
// daemon itself, with no OCI runtime binary, as config.json describes it
// (oci/spec.h writes the same config.json for every runtime type, so the
// builtin and runc start the same pause; docs/design.md, "The built-in
// pause launcher", lists what differs and why).
//
// Two steps, because of two kernel rules:
//  1. The daemon is multithreaded, and setns(CLONE_NEWUSER) is refused to
//     a process whose memory is shared (user_namespaces(7); the kernel
//     checks mm_users). So stage 1 is a fork-like clone3 child with its own
//     copy of memory: it joins the sandbox's cgroups (CLONE_INTO_CGROUP for
//     a cgroup v2 hierarchy, a write of "0" to cgroup.procs for each v1
//     one), sets its oom_score_adj while it is still host root (a negative
//     value needs CAP_SYS_RESOURCE in the host's user namespace), joins the
//     pinned user and network namespaces, unshares mount, UTS, IPC and PID
//     namespaces (so they belong to the pod's user namespace, as runc's
//     do), sets the hostname and clones stage 2.
//  2. unshare(CLONE_NEWPID) moves only the caller's future children into
//     the new PID namespace, so the pause is stage 1's child: stage 2,
//     cloned with CLONE_PARENT (the daemon is its parent: no re-parenting,
//     no monitor) and CLONE_VM (stage 1's copy is reused, nothing more is
//     copied). It is PID 1 of the pod's PID namespace; it mounts the
//     config's filesystems in its own mount namespace, writes the sysctls,
//     makes the read-only paths read-only and masks the masked ones,
//     pivot_roots into the shared read-only pause rootfs, drops every
//     capability (bounding and ambient too), takes the pause's uid and gid,
//     sets no_new_privs, puts /dev/null on stdio and execs the pause.
//
// The children run on copies of a multithreaded process (stage 2 even
// without a thread control block of its own), where libc is unsafe: locks
// held by other threads at fork time are never released there. So they
// make only raw syscalls (sys/raw_syscall.h) on memory prepared by the
// parent (LaunchPlan: every path, argument and flag computed before the
// fork), allocate nothing, and report a failure as {step, index, errno} on
// a close-on-exec pipe, whose EOF after stage 1's pid report means the
// exec succeeded. Every side effect of the parent goes through sys::Sys,
// so FaultySys can fail each; the children's are outside the seam (their
// failures are tested with real refusals: a missing rootfs, a bad sysctl).
//
// Thread-safe: Launch keeps no state between calls.
#ifndef PODSANDBOX_OCI_BUILTIN_LAUNCHER_H_
#define PODSANDBOX_OCI_BUILTIN_LAUNCHER_H_

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "sys/sys.h"
#include "userns/id_mapping.h"

namespace podsandbox::oci {

// One filesystem step of stage 2, before pivot_root. Paths are absolute
// in the host's view (the rootfs prefixed).
struct MountStep {
  enum class Kind {
    // mkdir `target` (an existing one is fine), mount(2) `source` on it
    // with `fstype`, `flags` and `data`; then, when `remount_flags` is not
    // 0, a bind remount with those flags (how a bind mount gets nosuid or
    // ro), and with `recursive_readonly` mount_setattr(2) AT_RECURSIVE
    // MOUNT_ATTR_RDONLY (OCI's "rro").
    kMount,
    // runc's maskedPaths: bind /dev/null over a file, or a read-only tmpfs
    // over a directory (ENOTDIR from the bind); a missing path is skipped.
    kMask,
    // runc's readonlyPaths: bind `target` on itself, then make that mount
    // read-only; a missing path is skipped.
    kReadonly,
    // A sysctl: write `data` to the file `target` (under the new /proc/sys).
    kWrite,
  };
  Kind kind = Kind::kMount;
  std::string source;
  std::string target;
  std::string fstype;
  unsigned long flags = 0;
  std::string data;
  unsigned long remount_flags = 0;
  bool recursive_readonly = false;
};

// Everything the children do, decided before they exist.
struct LaunchPlan {
  // Pins to join; empty: stay in the host's.
  std::string userns;
  std::string netns;
  // A user namespace the config asks for without a path (a host-network
  // pod with a user namespace: the controller pins none): its maps. The
  // caller makes it (oci/builtin_runtime.h) and sets `userns` to it;
  // Launch only ever joins.
  std::optional<userns::IdMappings> new_userns;
  // CLONE_NEWNS always; CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWPID as asked.
  int unshare_flags = 0;
  // Set in the new UTS namespace; empty leaves it.
  std::string hostname;
  int oom_score_adj = 0;
  // The pause rootfs (absolute) and whether / becomes read-only.
  std::string rootfs;
  bool readonly_root = true;
  std::vector<MountStep> mounts;
  uid_t uid = 0;
  gid_t gid = 0;
  bool no_new_privileges = true;
  // argv (args[0] is the binary's path inside the rootfs) and envp.
  std::vector<std::string> args;
  std::vector<std::string> env;
};

// The plan for config.json `config`, as oci/spec.h writes it.
// InvalidArgument naming the field for what the builtin does not do (any
// capability, a namespace path other than network and user, a user
// namespace with neither a path nor maps, a network namespace without a
// path, a mount option it does not know); nothing happens before.
absl::StatusOr<LaunchPlan> PlanFromOciSpec(const nlohmann::json& config);

// Where the pause's cgroup is, as open file descriptors (owned by the
// caller, open for the whole Launch).
struct LaunchCgroups {
  // A cgroup v2 directory for CLONE_INTO_CGROUP; -1 for none.
  int v2_dir = -1;
  // cgroup.procs files (opened for writing) that stage 1 writes "0" to.
  std::vector<int> procs;
};

// Starts the pause of `plan` and returns its pid (a child of this
// process, running the pause; the caller watches and reaps it).
// Atomic: on any failure no process of the launch is left (killed and
// reaped). Errors: the failing syscall's code, with the step and path
// ("builtin pause: mount proc on /run/.../rootfs/proc: Permission
// denied"); DeadlineExceeded when the children have not finished within
// `timeout`.
absl::StatusOr<pid_t> Launch(sys::Sys& sys, const LaunchPlan& plan,
                             const LaunchCgroups& cgroups,
                             absl::Duration timeout);

}  // namespace podsandbox::oci

#endif  // PODSANDBOX_OCI_BUILTIN_LAUNCHER_H_
