// cri_load: a CRI v1 load generator for any RuntimeService on a unix socket
// (podsandboxd, containerd, CRI-O). It runs --pods sandboxes with
// --concurrency workers, then stops them all, then removes them all, and
// reports p50/p95/p99 of each RPC, pods/s of the run phase and, with
// --memory, what the live pods cost the host. Needs root for --memory only.
//
//   cri_load --endpoint unix:///run/x.sock --pods 40 --concurrency 8 \
//            [--userns] [--memory --daemon_pid PID] [--json out.json]
//
// Phases, so each RPC is timed against its own kind only and memory is
// measured with every pod alive: warm-up pod(s) (run, stop, remove; not
// counted), run all, measure memory, stop all, remove all. Latencies are
// client-side: the socket adds well under a millisecond.
//
// Pods are valid for containerd too: metadata with a unique name (run id +
// index) and uid, a log_directory under a private temp dir, no cgroup
// parent, no DNS config, no port mappings, pid namespace CONTAINER (kubelet's
// default). With --userns each pod asks for
// userns_options mode POD mapping container 0 to its own 65536 host ids.
//
// Memory: the processes a pod adds are its pause process (pid from
// PodSandboxStatus verbose info) and its ancestors up to, not including,
// the daemon or pid 1 (containerd's per-pod shim); an ancestor shared by
// several pods is not per-pod and is left out; a pod without a pause
// (podsandboxd's infra = "none") adds none. Each counts its PSS from
// /proc/PID/smaps_rollup, so shared text is split between pods. Daemon
// growth is the daemon's PSS with all pods alive minus before the run.
// Kernel memory (--memory too) is host-wide: /proc/meminfo's slab, per-CPU,
// kernel stack, page table and shmem figures and /proc/cgroups's memory
// cgroup count, before the run phase and with all pods alive, each figure
// the median of the last kKernelMedianOf readings kKernelReadingGap apart,
// once they agree (KernelMemorySettled) or after kKernelMaxReadings (no
// drop_caches: it would disturb whatever else runs on the host). Whatever
// else the host did meanwhile is in the difference too.
//
// CPU: the host's busy and total CPU time over the run phase (/proc/stat),
// and with --daemon_pid the daemon's own and its reaped children's
// (/proc/PID/stat: for podsandboxd its CNI plugins and runtime binaries),
// as "run_cpu": with every CPU busy, pods/s is CPUs / CPU per pod.
//
// Cleanup is unconditional: every pod this run created is stopped and
// removed whatever failed, also after SIGINT/SIGTERM; then any pod carrying
// this run's label (e.g. one whose RunPodSandbox timed out client-side) is
// swept. Exit status: 0, or 1 when any RPC failed or cleanup left pods.
#include <errno.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/cri_load_lib.h"
#include "cri/api.pb.h"
#include "cri/client/cri_client.h"
#include "sys/file.h"
#include "sys/real_sys.h"
#include "sys/status.h"

ABSL_FLAG(std::string, endpoint, "", "CRI endpoint: unix:///path or /path");
ABSL_FLAG(std::string, label, "", "name of the endpoint in the report");
ABSL_FLAG(std::string, runtime_handler, "",
          "RunPodSandbox runtime_handler (\"\": the endpoint's default)");
ABSL_FLAG(int, pods, 10, "sandboxes to run");
ABSL_FLAG(int, concurrency, 1, "parallel workers (1: one after another)");
ABSL_FLAG(int, warmup, 1, "pods run, stopped and removed first, not counted");
ABSL_FLAG(bool, userns, false,
          "pods ask for a user namespace (mode POD, 0 -> own 65536 ids)");
ABSL_FLAG(uint32_t, userns_base, 1u << 20,
          "host id of pod i's range is base + i * 65536");
ABSL_FLAG(bool, memory, false,
          "measure PSS of the pods' processes and the daemon, and the "
          "host's kernel memory (root)");
ABSL_FLAG(int, daemon_pid, 0, "the daemon's pid, for --memory");
ABSL_FLAG(absl::Duration, timeout, absl::Minutes(2), "deadline of each RPC");
ABSL_FLAG(std::string, json, "",
          "also write the report as JSON here (-: stdout)");
ABSL_FLAG(std::string, tmpdir, "/tmp", "parent of the pods' log directories");

namespace podsandbox::bench {
namespace {

namespace v1 = ::runtime::v1;
using ::podsandbox::cri::client::CriClient;

constexpr char kRunLabel[] = "cri-load.run";
constexpr uint32_t kIdsPerPod = 65536;

// Set by SIGINT/SIGTERM: no new pods; cleanup still runs.
std::atomic<bool> g_interrupted{false};

void OnSignal(int) { g_interrupted.store(true); }

// The command line, checked.
struct LoadOptions {
  std::string endpoint;
  std::string label;
  std::string runtime_handler;
  int pods = 0;
  int concurrency = 1;
  int warmup = 0;
  bool userns = false;
  uint32_t userns_base = 0;
  bool memory = false;
  pid_t daemon_pid = 0;
  absl::Duration timeout;
  std::string json_path;
  std::string tmpdir;
};

// InvalidArgument naming what is missing or out of range.
absl::StatusOr<LoadOptions> OptionsFromFlags() {
  LoadOptions o;
  o.endpoint = cri::client::NormalizeEndpoint(absl::GetFlag(FLAGS_endpoint));
  o.label = absl::GetFlag(FLAGS_label).empty() ? o.endpoint
                                               : absl::GetFlag(FLAGS_label);
  o.runtime_handler = absl::GetFlag(FLAGS_runtime_handler);
  o.pods = absl::GetFlag(FLAGS_pods);
  o.concurrency = absl::GetFlag(FLAGS_concurrency);
  o.warmup = absl::GetFlag(FLAGS_warmup);
  o.userns = absl::GetFlag(FLAGS_userns);
  o.userns_base = absl::GetFlag(FLAGS_userns_base);
  o.memory = absl::GetFlag(FLAGS_memory);
  o.daemon_pid = absl::GetFlag(FLAGS_daemon_pid);
  o.timeout = absl::GetFlag(FLAGS_timeout);
  o.json_path = absl::GetFlag(FLAGS_json);
  o.tmpdir = absl::GetFlag(FLAGS_tmpdir);
  if (o.endpoint.empty()) {
    return absl::InvalidArgumentError("--endpoint: required");
  }
  if (o.pods < 1) return absl::InvalidArgumentError("--pods: must be >= 1");
  if (o.concurrency < 1) {
    return absl::InvalidArgumentError("--concurrency: must be >= 1");
  }
  if (o.memory && o.daemon_pid <= 1) {
    return absl::InvalidArgumentError("--daemon_pid: required with --memory");
  }
  return o;
}

// Everything a run shares between workers: the client, the pods' shape and
// the errors seen. Each RPC is timed around the client's call.
class Load {
 public:
  Load(CriClient& client, const LoadOptions& options, std::string run_id,
       std::string log_root)
      : client_(client),
        options_(options),
        run_id_(std::move(run_id)),
        log_root_(std::move(log_root)) {}

  // Pod `index` (unique within the run; warm-up pods use negative ones).
  v1::PodSandboxConfig PodConfig(int index) const {
    v1::PodSandboxConfig config;
    const std::string name =
        absl::StrCat("cri-load-", run_id_, "-", index < 0 ? "w" : "",
                     index < 0 ? -index : index);
    config.mutable_metadata()->set_name(name);
    config.mutable_metadata()->set_namespace_("cri-load");
    config.mutable_metadata()->set_uid(absl::StrCat(run_id_, "-", index));
    config.mutable_metadata()->set_attempt(0);
    config.set_hostname(absl::StrCat("pod", index < 0 ? -index : index));
    config.set_log_directory(absl::StrCat(log_root_, "/", name));
    (*config.mutable_labels())[kRunLabel] = run_id_;
    auto* ns = config.mutable_linux()
                   ->mutable_security_context()
                   ->mutable_namespace_options();
    ns->set_network(v1::POD);
    // What kubelet sends unless the pod sets shareProcessNamespace: one PID
    // namespace per container. A pod-level one needs an init (the pause),
    // so with POD no side could run a pod without a process.
    ns->set_pid(v1::CONTAINER);
    ns->set_ipc(v1::POD);
    if (options_.userns) {
      // Disjoint ranges, as kubelet allocates them; the warm-up pods sit
      // after the measured ones.
      const int slot = index < 0 ? options_.pods - index : index;
      const uint32_t host =
          options_.userns_base + static_cast<uint32_t>(slot) * kIdsPerPod;
      auto* userns = ns->mutable_userns_options();
      userns->set_mode(v1::POD);
      for (auto* m : {userns->add_uids(), userns->add_gids()}) {
        m->set_host_id(host);
        m->set_container_id(0);
        m->set_length(kIdsPerPod);
      }
    }
    return config;
  }

  // RunPodSandbox; the latency and id on success.
  absl::StatusOr<std::pair<std::string, absl::Duration>> Run(int index) {
    const v1::PodSandboxConfig config = PodConfig(index);
    const absl::Time start = absl::Now();
    ASSIGN_OR_RETURN(std::string id,
                     client_.RunPodSandbox(config, options_.runtime_handler));
    return std::make_pair(std::move(id), absl::Now() - start);
  }

  absl::StatusOr<absl::Duration> Stop(const std::string& id) {
    const absl::Time start = absl::Now();
    RETURN_IF_ERROR(client_.StopPodSandbox(id));
    return absl::Now() - start;
  }

  absl::StatusOr<absl::Duration> Remove(const std::string& id) {
    const absl::Time start = absl::Now();
    RETURN_IF_ERROR(client_.RemovePodSandbox(id));
    return absl::Now() - start;
  }

  // The pause's pid; nullopt for a pod without a pause (infra = "none").
  absl::StatusOr<std::optional<pid_t>> PausePid(const std::string& id) {
    ASSIGN_OR_RETURN(v1::PodSandboxStatusResponse status,
                     client_.PodSandboxStatus(id, /*verbose=*/true));
    const std::map<std::string, std::string> info(status.info().begin(),
                                                  status.info().end());
    if (NoPauseInStatusInfo(info)) return std::nullopt;
    ASSIGN_OR_RETURN(pid_t pid, PidFromStatusInfo(info));
    return pid;
  }

  // Ids of every pod carrying this run's label.
  absl::StatusOr<std::vector<std::string>> Labelled() {
    v1::PodSandboxFilter filter;
    (*filter.mutable_label_selector())[kRunLabel] = run_id_;
    ASSIGN_OR_RETURN(std::vector<v1::PodSandbox> pods,
                     client_.ListPodSandbox(filter));
    std::vector<std::string> ids;
    for (const v1::PodSandbox& pod : pods) ids.push_back(pod.id());
    return ids;
  }

  void RecordError(const absl::Status& s) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    if (errors_++ == 0) first_error_ = s.ToString();
  }
  int errors() ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    return errors_;
  }
  std::string first_error() ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    return first_error_;
  }

 private:
  CriClient& client_;
  const LoadOptions& options_;
  const std::string run_id_;
  const std::string log_root_;
  absl::Mutex mu_;
  int errors_ ABSL_GUARDED_BY(mu_) = 0;
  std::string first_error_ ABSL_GUARDED_BY(mu_);
};

// Calls work(i) for i in [0, n) on `workers` threads; each i exactly once.
// Stops handing out work once interrupted.
void ForEach(int n, int workers, const std::function<void(int)>& work) {
  std::atomic<int> next{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < std::max(1, workers); ++w) {
    threads.emplace_back([&] {
      for (int i = next++; i < n && !g_interrupted.load(); i = next++) work(i);
    });
  }
  for (std::thread& t : threads) t.join();
}

// Ids that ran, in run order, with their phase latencies; shared by phases.
struct Pods {
  absl::Mutex mu;
  std::vector<std::string> ids ABSL_GUARDED_BY(mu);
  std::set<std::string> stopped ABSL_GUARDED_BY(mu);
  std::set<std::string> removed ABSL_GUARDED_BY(mu);
  std::vector<absl::Duration> run ABSL_GUARDED_BY(mu);
  std::vector<absl::Duration> stop ABSL_GUARDED_BY(mu);
  std::vector<absl::Duration> remove ABSL_GUARDED_BY(mu);
};

absl::StatusOr<std::string> ReadProcFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("read ", path));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

absl::StatusOr<int64_t> PssKib(pid_t pid) {
  ASSIGN_OR_RETURN(std::string text,
                   ReadProcFile(absl::StrCat("/proc/", pid, "/smaps_rollup")));
  return ParsePssKib(text);
}

// Kernel memory readings: their spacing, and how many at most while waiting
// for the host to settle (KernelMemorySettled) before the figure is taken
// anyway.
constexpr absl::Duration kKernelReadingGap = absl::Milliseconds(200);
constexpr int kKernelMaxReadings = 25;

// Reads /proc/meminfo into `samples` every kKernelReadingGap until the last
// readings have settled or kKernelMaxReadings were taken (`settled` says
// which), then the memory cgroup count once (-1 when unreadable).
absl::Status ReadKernelMemory(std::vector<KernelMemory>& samples, bool& settled,
                              int64_t& cgroups) {
  settled = false;
  while (!settled && static_cast<int>(samples.size()) < kKernelMaxReadings) {
    // A sampling interval, not a wait for an event: the readings are meant
    // to be spread over time.
    if (!samples.empty()) absl::SleepFor(kKernelReadingGap);
    ASSIGN_OR_RETURN(std::string meminfo, ReadProcFile("/proc/meminfo"));
    ASSIGN_OR_RETURN(KernelMemory m, ParseKernelMemory(meminfo));
    samples.push_back(m);
    settled = KernelMemorySettled(samples);
  }
  absl::StatusOr<std::string> text = ReadProcFile("/proc/cgroups");
  absl::StatusOr<int64_t> n =
      text.ok() ? ParseMemoryCgroups(*text) : text.status();
  cgroups = n.value_or(-1);
  return absl::OkStatus();
}

// The pause process and its ancestors below the daemon and pid 1.
std::vector<pid_t> PodProcesses(pid_t pause, pid_t daemon) {
  std::vector<pid_t> chain;
  // A pod's process tree is shallow (pause, maybe a shim); the bound only
  // guards against a malformed /proc answer looping.
  for (pid_t pid = pause; pid > 1 && pid != daemon && chain.size() < 8;) {
    chain.push_back(pid);
    absl::StatusOr<std::string> stat =
        ReadProcFile(absl::StrCat("/proc/", pid, "/stat"));
    if (!stat.ok()) break;
    absl::StatusOr<pid_t> ppid = ParsePpid(*stat);
    if (!ppid.ok()) break;
    pid = *ppid;
  }
  return chain;
}

absl::StatusOr<MemoryReport> MeasurePods(Load& load,
                                         const std::vector<std::string>& ids,
                                         pid_t daemon, int64_t daemon_before) {
  MemoryReport m;
  m.pods = static_cast<int>(ids.size());
  m.daemon_before_kib = daemon_before;
  std::map<pid_t, int> pods_per_pid;
  for (const std::string& id : ids) {
    absl::StatusOr<std::optional<pid_t>> pause = load.PausePid(id);
    if (!pause.ok()) {
      return sys::Annotate(pause.status(), absl::StrCat("status of pod ", id));
    }
    if (!pause->has_value()) continue;  // no pause: the pod adds no process
    for (pid_t pid : PodProcesses(**pause, daemon)) ++pods_per_pid[pid];
  }
  for (const auto& [pid, pods] : pods_per_pid) {
    if (pods > 1 && m.pods > 1) continue;  // shared: not what a pod adds
    ASSIGN_OR_RETURN(int64_t kib, PssKib(pid));
    ++m.processes;
    m.pod_processes_pss_kib += kib;
  }
  ASSIGN_OR_RETURN(m.daemon_after_kib, PssKib(daemon));
  return m;
}

// CPU ticks now: the host's and, when `daemon` > 0, the daemon's.
struct CpuSample {
  HostCpuTicks host;
  ProcessCpuTicks daemon;
};

absl::StatusOr<CpuSample> SampleCpu(pid_t daemon) {
  CpuSample s;
  ASSIGN_OR_RETURN(std::string stat, ReadProcFile("/proc/stat"));
  ASSIGN_OR_RETURN(s.host, ParseHostCpuTicks(stat));
  if (daemon > 0) {
    ASSIGN_OR_RETURN(std::string own,
                     ReadProcFile(absl::StrCat("/proc/", daemon, "/stat")));
    ASSIGN_OR_RETURN(s.daemon, ParseProcessCpuTicks(own));
  }
  return s;
}

CpuReport CpuBetween(const CpuSample& a, const CpuSample& b) {
  const double tick = 1.0 / static_cast<double>(::sysconf(_SC_CLK_TCK));
  CpuReport r;
  r.cpus = static_cast<int>(::sysconf(_SC_NPROCESSORS_ONLN));
  r.host_busy_s = tick * static_cast<double>(b.host.busy - a.host.busy);
  r.host_total_s = tick * static_cast<double>(b.host.total - a.host.total);
  r.daemon_self_s = tick * static_cast<double>(b.daemon.self - a.daemon.self);
  r.daemon_children_s =
      tick * static_cast<double>(b.daemon.children - a.daemon.children);
  return r;
}

void InstallSignalHandlers() {
  struct sigaction action = {};
  action.sa_handler = OnSignal;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

// Unique per run: names never collide with an earlier run's leftovers.
std::string NewRunId() {
  return absl::StrFormat("%x%x", absl::ToUnixMicros(absl::Now()) & 0xffffffffff,
                         ::getpid());
}

// A private parent for the pods' log directories.
absl::StatusOr<std::string> MakeLogRoot(const std::string& tmpdir) {
  std::string log_root = absl::StrCat(tmpdir, "/cri-load-logs.XXXXXX");
  if (::mkdtemp(log_root.data()) == nullptr) {
    return sys::ErrnoError(errno, "mkdtemp %s", log_root);
  }
  return log_root;
}

// Phase 0: first-use costs (image unpack, plugin caches) are not what a
// steady node pays per pod, so `count` pods run, stop and go uncounted.
void WarmUp(Load& load, Pods& pods, int count) {
  for (int w = 1; w <= count && !g_interrupted; ++w) {
    absl::StatusOr<std::pair<std::string, absl::Duration>> ran = load.Run(-w);
    if (!ran.ok()) return load.RecordError(ran.status());
    {
      absl::MutexLock lock(&pods.mu);
      pods.ids.push_back(ran->first);
    }
    absl::Status s = load.Stop(ran->first).status();
    if (s.ok()) s = load.Remove(ran->first).status();
    if (!s.ok()) return load.RecordError(s);
    absl::MutexLock lock(&pods.mu);
    pods.removed.insert(ran->first);
  }
}

// Phase 1: runs every pod; the phase's wall time, for pods/s.
absl::Duration RunAll(Load& load, Pods& pods, int n, int workers) {
  const absl::Time start = absl::Now();
  ForEach(n, workers, [&](int i) {
    absl::StatusOr<std::pair<std::string, absl::Duration>> ran = load.Run(i);
    if (!ran.ok()) return load.RecordError(ran.status());
    absl::MutexLock lock(&pods.mu);
    pods.ids.push_back(ran->first);
    pods.run.push_back(ran->second);
  });
  return absl::Now() - start;
}

// The pods that ran and were not removed (the warm-up's are).
std::vector<std::string> LivePods(Pods& pods) {
  absl::MutexLock lock(&pods.mu);
  std::vector<std::string> live;
  for (const std::string& id : pods.ids) {
    if (!pods.removed.count(id)) live.push_back(id);
  }
  return live;
}

// Phase 2: stops every live pod.
void StopAll(Load& load, Pods& pods, const std::vector<std::string>& ids,
             int workers) {
  ForEach(static_cast<int>(ids.size()), workers, [&](int i) {
    absl::StatusOr<absl::Duration> took = load.Stop(ids[i]);
    if (!took.ok()) return load.RecordError(took.status());
    absl::MutexLock lock(&pods.mu);
    pods.stopped.insert(ids[i]);
    pods.stop.push_back(*took);
  });
}

// Phase 3: removes every pod that stopped; Cleanup takes the others.
void RemoveAll(Load& load, Pods& pods, const std::vector<std::string>& ids,
               int workers) {
  ForEach(static_cast<int>(ids.size()), workers, [&](int i) {
    {
      absl::MutexLock lock(&pods.mu);
      if (!pods.stopped.count(ids[i])) return;
    }
    absl::StatusOr<absl::Duration> took = load.Remove(ids[i]);
    if (!took.ok()) return load.RecordError(took.status());
    absl::MutexLock lock(&pods.mu);
    pods.removed.insert(ids[i]);
    pods.remove.push_back(*took);
  });
}

// Stops and removes every pod in `pods` not yet removed, then sweeps this
// run's label. Returns how many pods could not be removed.
int Cleanup(Load& load, Pods& pods) {
  std::vector<std::string> left = LivePods(pods);
  if (absl::StatusOr<std::vector<std::string>> labelled = load.Labelled();
      labelled.ok()) {
    for (const std::string& id : *labelled) {
      if (std::find(left.begin(), left.end(), id) == left.end()) {
        left.push_back(id);
      }
    }
  } else {
    std::fprintf(stderr, "cri_load: list pods to sweep: %s\n",
                 labelled.status().ToString().c_str());
  }
  int failed = 0;
  for (const std::string& id : left) {
    absl::Status s = load.Stop(id).status();
    if (s.ok() || s.code() == absl::StatusCode::kNotFound) {
      s = load.Remove(id).status();
    }
    if (!s.ok() && s.code() != absl::StatusCode::kNotFound) {
      std::fprintf(stderr, "cri_load: cleanup of pod %s: %s\n", id.c_str(),
                   s.ToString().c_str());
      ++failed;
    }
  }
  return failed;
}

// The report from the phases' samples and the errors seen.
RunReport MakeReport(const LoadOptions& options, Load& load, Pods& pods,
                     absl::Duration run_wall,
                     std::optional<MemoryReport> memory) {
  RunReport report;
  report.label = options.label;
  report.endpoint = options.endpoint;
  report.runtime_handler = options.runtime_handler;
  report.userns = options.userns;
  report.pods = options.pods;
  report.concurrency = options.concurrency;
  report.run_wall = run_wall;
  report.memory = std::move(memory);
  {
    absl::MutexLock lock(&pods.mu);
    report.run_samples = pods.run;
    report.stop_samples = pods.stop;
    report.remove_samples = pods.remove;
  }
  report.run = Summarize(report.run_samples);
  report.stop = Summarize(report.stop_samples);
  report.remove = Summarize(report.remove_samples);
  report.errors = load.errors();
  report.first_error = load.first_error();
  if (g_interrupted && report.first_error.empty()) {
    report.first_error = "interrupted";
  }
  return report;
}

// The table on stdout; the JSON on stdout ("-") or into `json_path`.
absl::Status WriteReport(const RunReport& report,
                         const std::string& json_path) {
  std::fputs(FormatTable(report).c_str(), stdout);
  const std::string json = ToJson(report).dump(2) + "\n";
  if (json_path == "-") {
    std::fputs(json.c_str(), stdout);
  } else if (!json_path.empty()) {
    std::ofstream out(json_path);
    out << json;
    if (!out) return absl::UnavailableError(absl::StrCat("write ", json_path));
  }
  return absl::OkStatus();
}

// The phases in order: warm-up, run all, measure memory, stop all, remove
// all, clean up, report.
int Main(const LoadOptions& options) {
  InstallSignalHandlers();
  absl::StatusOr<std::string> log_root = MakeLogRoot(options.tmpdir);
  if (!log_root.ok()) {
    std::fprintf(stderr, "cri_load: %s\n",
                 log_root.status().ToString().c_str());
    return 1;
  }
  CriClient client(options.endpoint, options.timeout);
  Load load(client, options, NewRunId(), *log_root);
  Pods pods;

  WarmUp(load, pods, options.warmup);

  int64_t daemon_before = 0;
  // Not read is no error: the report just has no "kernel".
  std::optional<KernelMemoryReport> kernel;
  if (options.memory && load.errors() == 0) {
    absl::StatusOr<int64_t> kib = PssKib(options.daemon_pid);
    if (!kib.ok()) load.RecordError(kib.status());
    daemon_before = kib.value_or(0);
    kernel.emplace();
    if (absl::Status s =
            ReadKernelMemory(kernel->before_samples, kernel->before_settled,
                             kernel->cgroups_before);
        !s.ok()) {
      std::fprintf(stderr, "cri_load: kernel memory: %s\n",
                   s.ToString().c_str());
      kernel.reset();
    }
  }

  // The run phase's CPU: what bounds pods/s once every CPU is busy. Not
  // measured is no error: the report just has no "run_cpu".
  absl::Duration run_wall;
  std::optional<CpuReport> run_cpu;
  if (load.errors() == 0) {
    absl::StatusOr<CpuSample> before = SampleCpu(options.daemon_pid);
    run_wall = RunAll(load, pods, options.pods, options.concurrency);
    absl::StatusOr<CpuSample> after = SampleCpu(options.daemon_pid);
    if (before.ok() && after.ok()) run_cpu = CpuBetween(*before, *after);
  }

  // Measured with every pod alive, before any stops.
  const std::vector<std::string> measured = LivePods(pods);
  std::optional<MemoryReport> memory;
  if (options.memory && load.errors() == 0 && !g_interrupted) {
    absl::StatusOr<MemoryReport> m =
        MeasurePods(load, measured, options.daemon_pid, daemon_before);
    if (m.ok()) {
      memory = *m;
      if (kernel.has_value()) {
        if (absl::Status s =
                ReadKernelMemory(kernel->after_samples, kernel->after_settled,
                                 kernel->cgroups_after);
            s.ok()) {
          memory->kernel = std::move(kernel);
        } else {
          std::fprintf(stderr, "cri_load: kernel memory: %s\n",
                       s.ToString().c_str());
        }
      }
    } else {
      load.RecordError(m.status());
    }
  }

  StopAll(load, pods, measured, options.concurrency);
  RemoveAll(load, pods, measured, options.concurrency);

  const int leaked = Cleanup(load, pods);
  sys::RealSys real_sys;
  if (absl::Status s = sys::RemoveTree(real_sys, *log_root); !s.ok()) {
    std::fprintf(stderr, "cri_load: %s\n", s.ToString().c_str());
  }

  RunReport report =
      MakeReport(options, load, pods, run_wall, std::move(memory));
  report.run_cpu = run_cpu;
  if (absl::Status s = WriteReport(report, options.json_path); !s.ok()) {
    std::fprintf(stderr, "cri_load: %s\n", s.ToString().c_str());
    return 1;
  }
  if (leaked > 0) {
    std::fprintf(stderr, "cri_load: %d pods could not be removed\n", leaked);
  }
  return report.errors > 0 || leaked > 0 || g_interrupted ? 1 : 0;
}

}  // namespace
}  // namespace podsandbox::bench

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "CRI load generator: cri_load --endpoint unix:///x.sock --pods N "
      "--concurrency C [--userns] [--memory --daemon_pid PID] [--json F]");
  absl::ParseCommandLine(argc, argv);
  absl::StatusOr<podsandbox::bench::LoadOptions> options =
      podsandbox::bench::OptionsFromFlags();
  if (!options.ok()) {
    std::fprintf(stderr, "cri_load: %s\n", options.status().ToString().c_str());
    return 2;
  }
  return podsandbox::bench::Main(*options);
}
