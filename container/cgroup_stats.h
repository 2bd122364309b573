// Reading a cgroup's usage for CRI stats, on cgroup v1 (one hierarchy per
// controller, a hybrid host's included) or v2 (one tree). Reads only; a
// value the host does not have stays 0 (or unset where 0 would lie).
// Thread-safe.
#ifndef PODSANDBOX_CONTAINER_CGROUP_STATS_H_
#define PODSANDBOX_CONTAINER_CGROUP_STATS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace podsandbox::container {

struct CgroupUsage {
  uint64_t cpu_usage_core_nanos = 0;
  uint64_t memory_usage_bytes = 0;
  // Usage minus inactive file cache, which the kernel reclaims first: the
  // working set as cAdvisor, the kubelet and containerd compute it.
  uint64_t memory_working_set_bytes = 0;
  // Anonymous memory (v1 total_rss, v2 anon) and the cumulative page
  // faults, minor and major (the kernel's pgfault counts both).
  uint64_t memory_rss_bytes = 0;
  uint64_t page_faults = 0;
  uint64_t major_page_faults = 0;
  // The memory limit; unset when there is none (v2 "max", v1's
  // page-counter maximum) or it cannot be read.
  std::optional<uint64_t> memory_limit_bytes;
  uint64_t process_count = 0;
  // oom_kill events counted for the cgroup.
  uint64_t oom_kills = 0;
};

// Where one cgroup's statistics files are: on v1 each controller has its
// own hierarchy (memory, cpuacct, pids), on v2 all three are the same
// directory of the unified tree.
struct CgroupStatDirs {
  bool unified = false;
  std::string memory;
  std::string cpu;
  // Where cgroup.procs is counted.
  std::string pids;
};

// The cgroup's usage. process_count is the processes of `dirs.pids`
// itself, or with `count_subtree` of every cgroup below it too (a pod's
// cgroup holds no process of its own, only child cgroups that do; v2
// forbids processes in inner cgroups), walking at most kMaxSubtreeDirs
// directories kMaxSubtreeDepth deep so a container that makes cgroups
// cannot make us walk without end.
inline constexpr int kMaxSubtreeDirs = 1024;
inline constexpr int kMaxSubtreeDepth = 8;
CgroupUsage ReadCgroupStats(const CgroupStatDirs& dirs,
                            bool count_subtree = false);

// `cgroup_path` is a cgroupfs path ("/kubepods/pod1/abc") under
// `cgroupfs` (v1 controllers at <cgroupfs>/<controller>, or v2 at
// <cgroupfs>): v1 when the memory hierarchy has the path, else v2.
CgroupUsage ReadCgroupUsage(absl::string_view cgroupfs,
                            absl::string_view cgroup_path);

}  // namespace podsandbox::container

#endif  // PODSANDBOX_CONTAINER_CGROUP_STATS_H_
