// Which cgroup hierarchies this host mounts under /sys/fs/cgroup, and where
// a cgroupfs path (a runtime's cgroupsPath with the cgroupfs driver, as
// oci/spec.cc builds it: "<cgroup_parent>/<id>") lives in each.
//
// Three layouts exist in the wild, and tests must not assume one:
//  - v1: a tmpfs at /sys/fs/cgroup with one cgroup (v1) mount per
//    controller (memory, pids, ...) or named hierarchy (name=systemd);
//  - hybrid: the same, plus cgroup2 (usually with no controllers) at
//    /sys/fs/cgroup/unified, where runc also places the container;
//  - v2: cgroup2 mounted at /sys/fs/cgroup itself, the unified hierarchy
//    (Debian 12's default).
// A runtime with the cgroupfs driver creates "<hierarchy><path>" in every
// hierarchy of the layout (runc on a hybrid host: every v1 mount and
// unified); CgroupDirectories names those directories.
//
// Creating cgroups does not depend on the layout: sandbox/ and cri/ hand
// cgroupsPath to the runtime, and runc and crun (cgroupfs driver) create it
// in whichever hierarchies the host has, the device rule included (an eBPF
// program on v2). Only reading usage does: the stats RPCs find each
// controller's files through this layout (cri/pod_stats.h). On a pure v2 host
// the pod's cgroup is /sys/fs/cgroup/<cgroup_parent>/<id>. The CI host is
// hybrid, so detection of v2 is tested here with fake statfs answers, and
// the daemon on a v2 layout by //cri/testing:podsandboxd_fixture_privileged_
// test, which runs it in a mount namespace where /sys/fs/cgroup is cgroup2
// alone (runc: the pod's cgroup only in the unified tree). crun 1.8.1 on
// such a layout fails at create here with setrlimit(RLIMIT_MEMLOCK) EPERM:
// it raises the limit for its eBPF device filter, and this CI sandbox
// withholds CAP_SYS_RESOURCE; a real root has it.
//
// Detection reads statfs(2) only, through a seam (FsTypeFunction) so that
// the v1 and v2 answers are tested on any host. Thread-safe: pure
// functions, or reads of /proc and statfs.
#ifndef PODSANDBOX_SYS_CGROUP_LAYOUT_H_
#define PODSANDBOX_SYS_CGROUP_LAYOUT_H_

#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "sys/sys.h"

namespace podsandbox::sys {

enum class CgroupLayout { kV1, kHybrid, kV2 };

// "v1", "hybrid" or "v2".
absl::string_view CgroupLayoutName(CgroupLayout layout);

// Where the hierarchies are mounted.
inline constexpr char kCgroupRoot[] = "/sys/fs/cgroup";

// statfs(2)'s f_type for `path` in SysResult::value, or the errno.
using FsTypeFunction = absl::FunctionRef<SysResult(const char* path)>;

// The layout from the filesystem types at kCgroupRoot and
// kCgroupRoot/unified: cgroup2 at the root is v2; a tmpfs at the root is
// hybrid when cgroup2 is at unified, else v1 (unified missing, or not
// cgroup2). FailedPrecondition naming what was found otherwise (nothing
// mounted at the root, statfs failing on it).
absl::StatusOr<CgroupLayout> DetectCgroupLayout(FsTypeFunction fs_type);

// The same on this host, with statfs(2).
absl::StatusOr<CgroupLayout> DetectCgroupLayout();

// The mount points of the cgroup v1 hierarchies in `mountinfo` (the text of
// /proc/<pid>/mountinfo): every mount of fstype "cgroup" at or below
// kCgroupRoot, in the order listed.
std::vector<std::string> CgroupV1MountPoints(absl::string_view mountinfo);

// The directories in which cgroupfs path `path` ("" for the roots, else
// absolute: "/kubepods/pod1/abc") lives under `layout`: kCgroupRoot + path
// on v2; each of `v1_mounts` + path on v1; both, plus the unified
// hierarchy, on hybrid. `v1_mounts` is ignored on v2.
std::vector<std::string> CgroupDirectories(
    CgroupLayout layout, const std::vector<std::string>& v1_mounts,
    absl::string_view path);

// CgroupDirectories for this host: DetectCgroupLayout() and the v1 mounts of
// /proc/self/mountinfo. Errors: DetectCgroupLayout's, or reading mountinfo.
absl::StatusOr<std::vector<std::string>> HostCgroupDirectories(
    absl::string_view path);

}  // namespace podsandbox::sys

#endif  // PODSANDBOX_SYS_CGROUP_LAYOUT_H_
