// Reading a cgroup's usage for CRI stats, on cgroup v1 (one hierarchy per
// controller under <cgroupfs>/<controller>) or v2 (one tree at <cgroupfs>),
// whichever has the path. Reads only; a value the host does not have stays
// 0. Thread-safe.
#ifndef PODSANDBOX_CONTAINER_CGROUP_STATS_H_
#define PODSANDBOX_CONTAINER_CGROUP_STATS_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace podsandbox::container {

struct CgroupUsage {
  uint64_t cpu_usage_core_nanos = 0;
  uint64_t memory_usage_bytes = 0;
  // Usage minus inactive file cache, which the kernel reclaims first: the
  // working set as cAdvisor, the kubelet and containerd compute it.
  uint64_t memory_working_set_bytes = 0;
  uint64_t process_count = 0;
  // oom_kill events counted for the cgroup.
  uint64_t oom_kills = 0;
};

// `cgroup_path` is a cgroupfs path ("/kubepods/pod1/abc").
CgroupUsage ReadCgroupUsage(absl::string_view cgroupfs,
                            absl::string_view cgroup_path);

}  // namespace podsandbox::container

#endif  // PODSANDBOX_CONTAINER_CGROUP_STATS_H_
