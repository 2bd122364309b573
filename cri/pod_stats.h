// The numbers of PodSandboxStats and ListPodSandboxStats: a ready pod's
// cgroup usage (CPU, memory, processes), its network interfaces read from
// its pinned network namespace by netlink, and its containers' stats.
//
// The pod's cgroup is its cgroup_parent (kubelet's pod cgroup, which holds
// the pause's cgroup and every container's); a pod without one has no
// cgroup of its own, so its usage is the sum of the pause's cgroup
// (<id>, as oci/spec.cc names it) and its containers'. The hierarchies are
// found once (sys/cgroup_layout.h): v1 and hybrid hosts keep the
// controllers in v1 hierarchies, v2 hosts in the unified tree.
//
// usage_nano_cores needs two samples: PodStatsReader keeps the last
// (cumulative usage, time) per pod and per container in memory, as
// containerd does, and leaves the field unset on the first sample of an id
// and when the counter went backwards (a cgroup made anew). Samples of ids
// no longer listed are dropped by Retain.
//
// Reads only: cgroup files, and one rtnetlink dump per pod from a socket
// opened inside the pod's netns on a short-lived thread. Takes no lock of
// the controller or the container manager beyond their memory reads, so a
// stats call never waits behind a runtime exec. Thread-safe.
#ifndef PODSANDBOX_CRI_POD_STATS_H_
#define PODSANDBOX_CRI_POD_STATS_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "container/cgroup_stats.h"
#include "container/manager.h"
#include "cri/api.pb.h"
#include "netns/netlink.h"
#include "sandbox/controller.h"
#include "sys/cgroup_layout.h"

namespace podsandbox::cri {

// Where the host's controllers keep their files: one root per controller
// on v1 and hybrid, the unified tree's root for all on v2.
struct CgroupRoots {
  bool unified = false;
  std::string memory;
  std::string cpu;  // cpuacct on v1
  std::string pids;
};

// The roots on a host of `layout` whose cgroup v1 mount points are
// `v1_mounts` (sys::CgroupV1MountPoints): a controller's root is the mount
// whose name lists it ("cpu,cpuacct"), else <root>/<controller>.
CgroupRoots CgroupRootsFor(sys::CgroupLayout layout,
                           const std::vector<std::string>& v1_mounts,
                           absl::string_view root = sys::kCgroupRoot);

// CgroupRootsFor this host. Errors: sys::DetectCgroupLayout's, or
// reading /proc/self/mountinfo.
absl::StatusOr<CgroupRoots> HostCgroupRoots();

// Where cgroupfs path `path` ("/kubepods/pod1") keeps its stat files.
container::CgroupStatDirs StatDirsFor(const CgroupRoots& roots,
                                      absl::string_view path);

// The pod's usage, as the file comment says: its cgroup_parent's whole
// subtree, or without one the sum of the pause's cgroup "/<pod_id>" and
// each container's "/<container id>". A missing file reads as 0; a sum has
// no memory limit.
container::CgroupUsage ReadPodCgroupUsage(
    const CgroupRoots& roots, absl::string_view cgroup_parent,
    absl::string_view pod_id, const std::vector<std::string>& container_ids);

// usage_nano_cores from successive samples of cumulative CPU usage.
class CpuSampler {
 public:
  // Ids are forgotten by Retain; should callers only ever ask for single
  // pods, this many samples make NanoCores start over instead of growing.
  static constexpr size_t kMaxSamples = 8192;

  // The average rate since the previous sample of `key`, in nano-cores,
  // and `at`/`usage_core_nanos` kept as the next one's base. Unset for the
  // first sample, a counter that went backwards, or a window that is not
  // positive (a concurrent, newer sample is kept then).
  std::optional<uint64_t> NanoCores(const std::string& key,
                                    uint64_t usage_core_nanos, absl::Time at)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Drops the samples of every key not in `live`.
  void Retain(const absl::flat_hash_set<std::string>& live)
      ABSL_LOCKS_EXCLUDED(mu_);

  size_t size() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Sample {
    uint64_t usage_core_nanos = 0;
    absl::Time at;
  };
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, Sample> samples_ ABSL_GUARDED_BY(mu_);
};

class PodStatsReader {
 public:
  // The links of the network namespace at a path (netns::ReadLinkStats in
  // the daemon; a fake in tests).
  using LinkReader =
      std::function<absl::StatusOr<std::vector<netns::LinkStats>>(
          absl::string_view netns_path)>;

  PodStatsReader(CgroupRoots roots, LinkReader links);

  // Fills `out` for pod `status` (verbose: its info carries the netns pin)
  // but its containers: attributes; CPU, memory and process count of its
  // cgroup (ReadPodCgroupUsage over `containers`' ids); its network
  // interfaces but loopback, eth0 as the default interface (CNI's name for
  // the pod's interface, as containerd and kubelet assume), left unset for
  // a host-network pod or when the netns cannot be read (a pod being
  // stopped). `at` is every timestamp.
  void FillPod(const sandbox::SandboxStatus& status,
               const std::vector<container::ContainerStats>& containers,
               absl::Time at, ::runtime::v1::PodSandboxStats* out);

  // usage_nano_cores of a container's stats (CpuSampler, keyed by its id).
  std::optional<uint64_t> ContainerNanoCores(
      const container::ContainerStats& stats);

  // Forgets the CPU samples of every pod and container not in `live`.
  void Retain(const absl::flat_hash_set<std::string>& live) {
    cpu_.Retain(live);
  }

  const CgroupRoots& roots() const { return roots_; }

 private:
  const CgroupRoots roots_;
  const LinkReader links_;
  CpuSampler cpu_;
};

// The reader for this host: HostCgroupRoots, and links read by
// netns::ReadLinkStats through a RealSys and a LibnlNetlink of its own.
// Errors: HostCgroupRoots's.
absl::StatusOr<std::shared_ptr<PodStatsReader>> MakeHostPodStatsReader();

}  // namespace podsandbox::cri

#endif  // PODSANDBOX_CRI_POD_STATS_H_
