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
// parent, no DNS config, no port mappings. With --userns each pod asks for
// userns_options mode POD mapping container 0 to its own 65536 host ids.
//
// Memory: the processes a pod adds are its pause process (pid from
// PodSandboxStatus verbose info) and its ancestors up to, not including,
// the daemon or pid 1 (containerd's per-pod shim); an ancestor shared by
// several pods is not per-pod and is left out. Each counts its PSS from
// /proc/PID/smaps_rollup, so shared text is split between pods. Daemon
// growth is the daemon's PSS with all pods alive minus before the run.
//
// Cleanup is unconditional: every pod this run created is stopped and
// removed whatever failed, also after SIGINT/SIGTERM; then any pod carrying
// this run's label (e.g. one whose RunPodSandbox timed out client-side) is
// swept. Exit status: 0, or 1 when any RPC failed or cleanup left pods.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/cri_load_lib.h"
#include "cri/api.grpc.pb.h"
#include "cri/api.pb.h"
#include "grpcpp/grpcpp.h"
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
          "measure PSS of the pods' processes and the daemon (root)");
ABSL_FLAG(int, daemon_pid, 0, "the daemon's pid, for --memory");
ABSL_FLAG(absl::Duration, timeout, absl::Minutes(2), "deadline of each RPC");
ABSL_FLAG(std::string, json, "",
          "also write the report as JSON here (-: stdout)");
ABSL_FLAG(std::string, tmpdir, "/tmp", "parent of the pods' log directories");

namespace podsandbox::bench {
namespace {

namespace v1 = ::runtime::v1;

constexpr char kRunLabel[] = "cri-load.run";
constexpr uint32_t kIdsPerPod = 65536;

// Set by SIGINT/SIGTERM: no new pods; cleanup still runs.
std::atomic<bool> g_interrupted{false};

void OnSignal(int) { g_interrupted.store(true); }

absl::Status FromGrpc(const grpc::Status& s) {
  if (s.ok()) return absl::OkStatus();
  // gRPC and absl share code numbers (both are google.rpc.Code).
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()),
                      s.error_message());
}

class Client {
 public:
  explicit Client(const std::string& endpoint)
      : stub_(v1::RuntimeService::NewStub(grpc::CreateChannel(
            endpoint, grpc::InsecureChannelCredentials()))) {}

  // Calls `method` with the --timeout deadline. Thread-safe: the stub and
  // channel multiplex concurrent calls.
  template <typename Request, typename Response>
  absl::Status Call(grpc::Status (v1::RuntimeService::Stub::*method)(
                        grpc::ClientContext*, const Request&, Response*),
                    const Request& request, Response* response) {
    grpc::ClientContext context;
    context.set_deadline(
        absl::ToChronoTime(absl::Now() + absl::GetFlag(FLAGS_timeout)));
    return FromGrpc(((*stub_).*method)(&context, request, response));
  }

 private:
  std::unique_ptr<v1::RuntimeService::Stub> stub_;
};

std::string NormalizeEndpoint(std::string endpoint) {
  if (absl::StartsWith(endpoint, "/")) return absl::StrCat("unix://", endpoint);
  return endpoint;
}

// Everything a run shares between workers.
class Load {
 public:
  Load(Client& client, std::string run_id, std::string log_root)
      : client_(client),
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
    ns->set_pid(v1::POD);
    ns->set_ipc(v1::POD);
    if (absl::GetFlag(FLAGS_userns)) {
      // Disjoint ranges, as kubelet allocates them; the warm-up pods sit
      // after the measured ones.
      const int slot = index < 0 ? absl::GetFlag(FLAGS_pods) - index : index;
      const uint32_t host = absl::GetFlag(FLAGS_userns_base) +
                            static_cast<uint32_t>(slot) * kIdsPerPod;
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
    v1::RunPodSandboxRequest request;
    *request.mutable_config() = PodConfig(index);
    request.set_runtime_handler(absl::GetFlag(FLAGS_runtime_handler));
    v1::RunPodSandboxResponse response;
    const absl::Time start = absl::Now();
    RETURN_IF_ERROR(client_.Call(&v1::RuntimeService::Stub::RunPodSandbox,
                                 request, &response));
    return std::make_pair(response.pod_sandbox_id(), absl::Now() - start);
  }

  absl::StatusOr<absl::Duration> Stop(const std::string& id) {
    v1::StopPodSandboxRequest request;
    request.set_pod_sandbox_id(id);
    v1::StopPodSandboxResponse response;
    const absl::Time start = absl::Now();
    RETURN_IF_ERROR(client_.Call(&v1::RuntimeService::Stub::StopPodSandbox,
                                 request, &response));
    return absl::Now() - start;
  }

  absl::StatusOr<absl::Duration> Remove(const std::string& id) {
    v1::RemovePodSandboxRequest request;
    request.set_pod_sandbox_id(id);
    v1::RemovePodSandboxResponse response;
    const absl::Time start = absl::Now();
    RETURN_IF_ERROR(client_.Call(&v1::RuntimeService::Stub::RemovePodSandbox,
                                 request, &response));
    return absl::Now() - start;
  }

  absl::StatusOr<pid_t> PausePid(const std::string& id) {
    v1::PodSandboxStatusRequest request;
    request.set_pod_sandbox_id(id);
    request.set_verbose(true);
    v1::PodSandboxStatusResponse response;
    RETURN_IF_ERROR(client_.Call(&v1::RuntimeService::Stub::PodSandboxStatus,
                                 request, &response));
    return PidFromStatusInfo(std::map<std::string, std::string>(
        response.info().begin(), response.info().end()));
  }

  // Ids of every pod carrying this run's label.
  absl::StatusOr<std::vector<std::string>> Labelled() {
    v1::ListPodSandboxRequest request;
    (*request.mutable_filter()->mutable_label_selector())[kRunLabel] = run_id_;
    v1::ListPodSandboxResponse response;
    RETURN_IF_ERROR(client_.Call(&v1::RuntimeService::Stub::ListPodSandbox,
                                 request, &response));
    std::vector<std::string> ids;
    for (const v1::PodSandbox& pod : response.items()) ids.push_back(pod.id());
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
  Client& client_;
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
    absl::StatusOr<pid_t> pause = load.PausePid(id);
    if (!pause.ok()) {
      return sys::Annotate(pause.status(), absl::StrCat("status of pod ", id));
    }
    for (pid_t pid : PodProcesses(*pause, daemon)) ++pods_per_pid[pid];
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

// Stops and removes every pod in `pods` not yet removed, then sweeps this
// run's label. Returns how many pods could not be removed.
int Cleanup(Load& load, Pods& pods) {
  std::vector<std::string> left;
  {
    absl::MutexLock lock(&pods.mu);
    for (const std::string& id : pods.ids) {
      if (!pods.removed.count(id)) left.push_back(id);
    }
  }
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

int Main() {
  const std::string endpoint = NormalizeEndpoint(absl::GetFlag(FLAGS_endpoint));
  const int n = absl::GetFlag(FLAGS_pods);
  const int workers = absl::GetFlag(FLAGS_concurrency);
  const pid_t daemon = absl::GetFlag(FLAGS_daemon_pid);
  const bool memory = absl::GetFlag(FLAGS_memory);
  if (endpoint.empty() || n < 1 || workers < 1 || (memory && daemon <= 1)) {
    std::fprintf(stderr,
                 "cri_load: need --endpoint, --pods >= 1, --concurrency >= 1 "
                 "and, with --memory, --daemon_pid\n");
    return 2;
  }

  struct sigaction action = {};
  action.sa_handler = OnSignal;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);

  // Unique per run: names never collide with an earlier run's leftovers.
  const std::string run_id = absl::StrFormat(
      "%x%x", absl::ToUnixMicros(absl::Now()) & 0xffffffffff, ::getpid());
  std::string log_root =
      absl::StrCat(absl::GetFlag(FLAGS_tmpdir), "/cri-load-logs.XXXXXX");
  if (::mkdtemp(log_root.data()) == nullptr) {
    std::perror("cri_load: mkdtemp");
    return 1;
  }

  Client client(endpoint);
  Load load(client, run_id, log_root);
  Pods pods;

  RunReport report;
  report.label = absl::GetFlag(FLAGS_label).empty()
                     ? endpoint
                     : absl::GetFlag(FLAGS_label);
  report.endpoint = endpoint;
  report.runtime_handler = absl::GetFlag(FLAGS_runtime_handler);
  report.userns = absl::GetFlag(FLAGS_userns);
  report.pods = n;
  report.concurrency = workers;

  // Warm-up: first-use costs (image unpack, plugin caches) are not what a
  // steady node pays per pod.
  for (int w = 1; w <= absl::GetFlag(FLAGS_warmup) && !g_interrupted; ++w) {
    absl::StatusOr<std::pair<std::string, absl::Duration>> ran = load.Run(-w);
    if (!ran.ok()) {
      load.RecordError(ran.status());
      break;
    }
    {
      absl::MutexLock lock(&pods.mu);
      pods.ids.push_back(ran->first);
    }
    absl::Status s = load.Stop(ran->first).status();
    if (s.ok()) s = load.Remove(ran->first).status();
    if (!s.ok()) {
      load.RecordError(s);
      break;
    }
    absl::MutexLock lock(&pods.mu);
    pods.removed.insert(ran->first);
  }

  int64_t daemon_before = 0;
  if (memory && load.errors() == 0) {
    absl::StatusOr<int64_t> kib = PssKib(daemon);
    if (!kib.ok()) load.RecordError(kib.status());
    daemon_before = kib.value_or(0);
  }

  if (load.errors() == 0) {
    const absl::Time start = absl::Now();
    ForEach(n, workers, [&](int i) {
      absl::StatusOr<std::pair<std::string, absl::Duration>> ran = load.Run(i);
      if (!ran.ok()) return load.RecordError(ran.status());
      absl::MutexLock lock(&pods.mu);
      pods.ids.push_back(ran->first);
      pods.run.push_back(ran->second);
    });
    report.run_wall = absl::Now() - start;
  }

  std::vector<std::string> measured;
  {
    absl::MutexLock lock(&pods.mu);
    for (const std::string& id : pods.ids) {
      if (!pods.removed.count(id)) measured.push_back(id);
    }
  }
  if (memory && load.errors() == 0 && !g_interrupted) {
    absl::StatusOr<MemoryReport> m =
        MeasurePods(load, measured, daemon, daemon_before);
    if (m.ok()) {
      report.memory = *m;
    } else {
      load.RecordError(m.status());
    }
  }

  ForEach(static_cast<int>(measured.size()), workers, [&](int i) {
    absl::StatusOr<absl::Duration> took = load.Stop(measured[i]);
    if (!took.ok()) return load.RecordError(took.status());
    absl::MutexLock lock(&pods.mu);
    pods.stopped.insert(measured[i]);
    pods.stop.push_back(*took);
  });
  ForEach(static_cast<int>(measured.size()), workers, [&](int i) {
    {
      absl::MutexLock lock(&pods.mu);
      if (!pods.stopped.count(measured[i])) return;
    }
    absl::StatusOr<absl::Duration> took = load.Remove(measured[i]);
    if (!took.ok()) return load.RecordError(took.status());
    absl::MutexLock lock(&pods.mu);
    pods.removed.insert(measured[i]);
    pods.remove.push_back(*took);
  });

  const int leaked = Cleanup(load, pods);
  sys::RealSys real_sys;
  if (absl::Status s = sys::RemoveTree(real_sys, log_root); !s.ok()) {
    std::fprintf(stderr, "cri_load: %s\n", s.ToString().c_str());
  }

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

  std::fputs(FormatTable(report).c_str(), stdout);
  const std::string json_path = absl::GetFlag(FLAGS_json);
  const std::string json = ToJson(report).dump(2) + "\n";
  if (json_path == "-") {
    std::fputs(json.c_str(), stdout);
  } else if (!json_path.empty()) {
    std::ofstream out(json_path);
    out << json;
    if (!out) {
      std::fprintf(stderr, "cri_load: write %s failed\n", json_path.c_str());
      return 1;
    }
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
  return podsandbox::bench::Main();
}
