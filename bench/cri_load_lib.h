// The pure parts of cri_load, the CRI load generator: latency percentiles,
// parsing of /proc files and CRI status info, and the report as a table and
// as JSON. Nothing here talks to a CRI endpoint or reads /proc itself, so all
// of it is unit-tested (cri_load_lib_test).
//
// Units in reports: latencies in milliseconds, memory in KiB (as /proc
// prints it), throughput in pods per second.
#ifndef PODSANDBOX_BENCH_CRI_LOAD_LIB_H_
#define PODSANDBOX_BENCH_CRI_LOAD_LIB_H_

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"

namespace podsandbox::bench {

// Nearest-rank percentile: the smallest sample such that at least q percent
// of the samples are <= it. q is clamped to [0, 100]; q = 0 gives the
// minimum. An empty input gives ZeroDuration(). Takes a copy: it sorts.
absl::Duration Percentile(std::vector<absl::Duration> samples, double q);

// Latencies of one RPC over a run.
struct LatencySummary {
  int count = 0;
  absl::Duration p50, p95, p99, max, mean;
};

// All zero for an empty input.
LatencySummary Summarize(const std::vector<absl::Duration>& samples);

// The "Pss:" figure of /proc/PID/smaps_rollup, in KiB. InvalidArgument when
// the text has no well-formed Pss line (e.g. a kernel thread's empty file).
absl::StatusOr<int64_t> ParsePssKib(absl::string_view smaps_rollup);

// The parent pid (field 4) of /proc/PID/stat. The command name (field 2) may
// hold spaces and parentheses, so fields are counted after its last ')'.
// InvalidArgument on malformed text.
absl::StatusOr<pid_t> ParsePpid(absl::string_view stat);

// The pause process's pid from PodSandboxStatus(verbose).info: the first
// value that is a JSON object with a positive integer "pid" (containerd and
// podsandboxd both put it under "info"). NotFound when no value has one.
absl::StatusOr<pid_t> PidFromStatusInfo(
    const std::map<std::string, std::string>& info);

// Whether PodSandboxStatus(verbose).info says the pod has no pause at all
// (podsandboxd's infra = "none": some value is a JSON object with "infra":
// "none"). Such a pod adds no process, so it has no pid to look for.
bool NoPauseInStatusInfo(const std::map<std::string, std::string>& info);

// CPU time from /proc, in clock ticks (sysconf(_SC_CLK_TCK)).
struct HostCpuTicks {
  // user + nice + system + irq + softirq + steal: every CPU's busy time.
  int64_t busy = 0;
  // busy + idle + iowait: every CPU's time.
  int64_t total = 0;
};

// The first ("cpu ", all CPUs) line of /proc/stat. InvalidArgument when it
// is missing or has fewer than eight numbers.
absl::StatusOr<HostCpuTicks> ParseHostCpuTicks(absl::string_view proc_stat);

struct ProcessCpuTicks {
  int64_t self = 0;      // utime + stime
  int64_t children = 0;  // cutime + cstime: its reaped children's
};

// Fields 14-17 of /proc/PID/stat (counted after the command name's last
// ')'). A daemon's children are its CNI plugins and runtime binaries, whose
// time counts once they are reaped. InvalidArgument on malformed text.
absl::StatusOr<ProcessCpuTicks> ParseProcessCpuTicks(absl::string_view stat);

// What the run phase cost in CPU: the whole host's, and the daemon's own
// and its reaped children's, in seconds. What the host spent beyond the
// daemon and its children is the kernel's deferred work (RCU, workqueues,
// net namespace cleanup), the runtime's shims and anything else running.
struct CpuReport {
  int cpus = 0;
  double host_busy_s = 0;
  double host_total_s = 0;
  double daemon_self_s = 0;
  double daemon_children_s = 0;
};

// Host-wide kernel memory from /proc/meminfo, in KiB: what namespaces, veth
// pairs, mounts, cgroups, processes' kernel stacks and page tables and tmpfs
// files (records, pod files in /run) cost, which no process's PSS includes.
struct KernelMemory {
  // SReclaimable: mostly dentries and inodes, so it also moves with any file
  // activity on the host.
  int64_t slab_reclaimable = 0;
  int64_t slab_unreclaimable = 0;  // SUnreclaim
  // Percpu (0 when the kernel does not print it): memory cgroups' and
  // network namespaces' per-CPU counters, outside the slab.
  int64_t percpu = 0;
  int64_t kernel_stack = 0;  // KernelStack
  int64_t page_tables = 0;   // PageTables
  int64_t shmem = 0;         // Shmem: tmpfs and shared memory pages

  int64_t TotalKib() const;
};

// The fields above from /proc/meminfo's text. InvalidArgument when one of
// them other than Percpu is missing or malformed.
absl::StatusOr<KernelMemory> ParseKernelMemory(absl::string_view meminfo);

// Each field's median over `samples` (for an even count the lower middle,
// as Percentile(50) picks), so one reading moved by another process's burst
// does not move the figure. All zero for no samples.
KernelMemory MedianKernelMemory(const std::vector<KernelMemory>& samples);

// num_cgroups of the "memory" row of /proc/cgroups: the memory cgroups alive
// (or dying) on the host, each with per-CPU counters of its own.
// InvalidArgument when there is no such row.
absl::StatusOr<int64_t> ParseMemoryCgroups(absl::string_view proc_cgroups);

// A kernel memory figure is the median of the last kKernelMedianOf readings,
// taken once their totals lie within kKernelSettledSpanKib of each other:
// right after pods are removed the kernel frees their namespaces for a while
// yet (RCU, workqueues), a steady fall the median alone would not keep out.
inline constexpr int kKernelMedianOf = 5;
inline constexpr int64_t kKernelSettledSpanKib = 128;

// Whether `readings` has kKernelMedianOf of them and the last ones' totals
// lie within kKernelSettledSpanKib.
bool KernelMemorySettled(const std::vector<KernelMemory>& readings);

// MedianKernelMemory of the last kKernelMedianOf readings (all when fewer).
KernelMemory KernelMemoryFigure(const std::vector<KernelMemory>& readings);

// Kernel memory before the first measured pod and with all of them alive,
// each from several readings. Host-wide: what other processes did meanwhile
// is in the difference too.
struct KernelMemoryReport {
  // Every reading, in order, and whether the last ones had settled (false:
  // the reader gave up waiting and the figure is the last ones' median).
  std::vector<KernelMemory> before_samples, after_samples;
  bool before_settled = false;
  bool after_settled = false;
  // Memory cgroups on the host; -1 when /proc/cgroups could not be read.
  int64_t cgroups_before = -1;
  int64_t cgroups_after = -1;

  KernelMemory Before() const { return KernelMemoryFigure(before_samples); }
  KernelMemory After() const { return KernelMemoryFigure(after_samples); }
  int64_t DeltaKib() const { return After().TotalKib() - Before().TotalKib(); }
};

// What the live pods cost the host, measured with all of them running.
struct MemoryReport {
  int pods = 0;
  // Processes the pods added (each pause and, for containerd, each shim),
  // counted once, and the sum of their PSS.
  int processes = 0;
  int64_t pod_processes_pss_kib = 0;
  // The daemon's PSS before the first measured pod and with all running.
  int64_t daemon_before_kib = 0;
  int64_t daemon_after_kib = 0;

  int64_t DaemonGrowthKib() const {
    return daemon_after_kib - daemon_before_kib;
  }
  // Host-wide kernel memory, when it could be read.
  std::optional<KernelMemoryReport> kernel;

  // (pod processes + daemon growth) / pods; 0 without pods.
  double PerPodKib() const;
  // The kernel memory's growth / pods; 0 without pods or kernel figures.
  double KernelPerPodKib() const;
};

// One cri_load run against one endpoint.
struct RunReport {
  std::string label;     // e.g. "podsandboxd" or "containerd"
  std::string endpoint;  // unix:///...
  std::string runtime_handler;
  bool userns = false;
  int pods = 0;
  int concurrency = 1;
  LatencySummary run, stop, remove;
  // The raw latencies, in completion order, for CDF plots.
  std::vector<absl::Duration> run_samples, stop_samples, remove_samples;
  // Wall time of the phase that ran all pods; pods/s is taken over it.
  absl::Duration run_wall;
  int errors = 0;
  std::string first_error;
  std::optional<MemoryReport> memory;
  // The run phase's CPU time, when measured.
  std::optional<CpuReport> run_cpu;

  // Pods whose RunPodSandbox succeeded, per second of the run phase.
  double PodsPerSecond() const;
};

// A fixed-width, human-readable table (one row per RPC, then throughput,
// memory when measured, and errors when any or interrupted), ending in a
// newline.
std::string FormatTable(const RunReport& report);

// The report as JSON: latencies as {"p50","p95","p99","max","mean"} in ms
// (doubles) plus "count"; "samples_ms" {"run","stop","remove"} the raw
// latencies; "pods_per_s"; "memory" and "run_cpu" present only when
// measured; "memory" has "kernel" (each reading, their medians and the
// per-pod growth) when kernel memory was read.
nlohmann::json ToJson(const RunReport& report);

}  // namespace podsandbox::bench

#endif  // PODSANDBOX_BENCH_CRI_LOAD_LIB_H_
