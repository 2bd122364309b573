// The Controller as a CRI server uses it: RunPodSandbox + RemovePodSandbox
// of a user-namespaced pod with real runc and the real bridge/host-local
// plugins; and the memory-only paths at scale: restart recovery of 1000
// records and ListPodSandbox over them. Needs root.
//
//   bazel run -c opt //bench:controller_bench -- --benchmark_repetitions=5
#include <sys/mount.h>
#include <unistd.h>

#include <map>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "benchmark/benchmark.h"
#include "cni/testing/host_network_guard.h"
#include "metrics/exec_ledger.h"
#include "netns/namespaces.h"
#include "nlohmann/json.hpp"
#include "sandbox/controller.h"
#include "sandbox/controller_impl.h"
#include "sandbox/store.h"
#include "sys/file.h"
#include "sys/real_sys.h"

namespace podsandbox {
namespace {

using sandbox::Controller;
using sandbox::ControllerOptions;

constexpr char kBridge[] = "psbbench0";

// Private dirs, unmounted and removed afterwards.
class BenchDirs {
 public:
  BenchDirs() : base_(absl::StrCat("/tmp/psb-controller-bench-", ::getpid())) {
    (void)sys::MakeDirs(sys_, base_ + "/net.d", 0755).ok();
    nlohmann::json list = {
        {"cniVersion", "1.0.0"},
        {"name", "psbbench"},
        {"plugins",
         {{{"type", "bridge"},
           {"bridge", kBridge},
           {"isGateway", true},
           {"ipMasq", false},
           {"ipam",
            {{"type", "host-local"},
             {"dataDir", base_ + "/ipam"},
             {"ranges", {{{{"subnet", "10.236.0.0/16"}}}}}}}},
          // As scripts/bench's chain: portmap runs on every ADD and DEL.
          {{"type", "portmap"}, {"capabilities", {{"portMappings", true}}}}}}};
    (void)sys::WriteFileAtomically(sys_, base_ + "/net.d/10-bench.conflist",
                                   list.dump(), 0644)
        .ok();
  }
  ~BenchDirs() {
    netns::UnmountPinDirs(sys_, base_ + "/state/ns").IgnoreError();
    (void)sys::RemoveTree(sys_, base_).ok();
  }

  ControllerOptions Options() const {
    ControllerOptions o;
    o.root_dir = base_ + "/root";
    o.state_dir = base_ + "/state";
    o.cni_conf_dir = base_ + "/net.d";
    o.cni_bin_dirs = {"/usr/lib/cni"};
    o.pause_binary = "sandbox/pause/pause";
    o.stop_grace_period = absl::Seconds(1);
    return o;
  }
  sys::Sys& sys() { return sys_; }

 private:
  sys::RealSys sys_;
  std::string base_;
};

sandbox::PodConfig Pod(int i) {
  sandbox::PodConfig config;
  config.metadata = {absl::StrCat("bench-", i), absl::StrCat("uid-", i),
                     "bench", 0};
  config.hostname = "bench";
  config.labels = {{"app", "bench"}, {"i", absl::StrCat(i % 10)}};
  config.namespaces.userns.mode = sandbox::NamespaceMode::kPod;
  config.namespaces.userns.mappings = {{{0, 300000, 65536}},
                                       {{0, 300000, 65536}}};
  return config;
}

bool NeedRoot(benchmark::State& state) {
  if (::geteuid() == 0) return false;
  state.SkipWithError("needs root");
  return true;
}

// A controller on private dirs with the bench network, all torn down
// afterwards.
struct BenchController {
  explicit BenchController(bool overlap) : guard(dirs.sys(), kBridge) {
    ControllerOptions options = dirs.Options();
    options.overlap_network_with_create = overlap;
    options.overlap_kill_with_network_delete = overlap;
    controller = Controller::Create(dirs.sys(), options);
  }

  BenchDirs dirs;
  cni::HostNetworkGuard guard;
  absl::StatusOr<std::unique_ptr<Controller>> controller;
};

// RunPodSandbox, then RemovePodSandbox (timed or not), with and without CNI
// ADD overlapping the runtime's create.
void BM_RunPods(benchmark::State& state, bool time_remove) {
  if (NeedRoot(state)) return;
  BenchController bench(/*overlap=*/state.range(0) != 0);
  if (!bench.controller.ok()) {
    return state.SkipWithError(bench.controller.status().ToString().c_str());
  }
  Controller& c = **bench.controller;
  int i = 0;
  for (auto _ : state) {
    absl::StatusOr<std::string> id = c.RunPodSandbox(Pod(i++), "");
    if (!id.ok()) return state.SkipWithError(id.status().ToString().c_str());
    if (!time_remove) state.PauseTiming();
    absl::Status removed = c.RemovePodSandbox(*id);
    if (!time_remove) state.ResumeTiming();
    if (!removed.ok()) return state.SkipWithError(removed.ToString().c_str());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK_CAPTURE(BM_RunPods, RunAndRemove, /*time_remove=*/true)
    ->ArgName("overlap")
    ->Arg(0)
    ->Arg(1)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_RunPods, RunOnly, /*time_remove=*/false)
    ->ArgName("overlap")
    ->Arg(0)
    ->Arg(1)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// Where RunPodSandbox's and StopPodSandbox's time goes, step by step, for a
// user-namespaced pod on the default handler (builtin) with the bench's
// bridge + host-local + portmap chain: the wall time between consecutive
// marks (the controller's journal points, step hooks and Stop's crash
// points, which name each boundary), averaged per call, as counters
// "<run|stop|remove>: <from> -> <to>" in ms; and per call its wall time,
// its CNI plugin exec time (metrics::ExecLedger, the daemon's per-RPC
// split) and the difference, our own share. Arg: overlap of ADD with the
// pause's start and of the kill with DEL (1) or neither (0).
class Timeline {
 public:
  void Begin(absl::string_view op) {
    absl::MutexLock lock(&mu_);
    op_ = std::string(op);
    last_ = "begin";
    at_ = absl::Now();
  }
  void Mark(absl::string_view what) {
    const absl::Time now = absl::Now();
    absl::MutexLock lock(&mu_);
    ms_[absl::StrCat(op_, ": ", last_, " -> ", what)] +=
        absl::ToDoubleMilliseconds(now - at_);
    last_ = std::string(what);
    at_ = now;
  }
  std::map<std::string, double> totals() {
    absl::MutexLock lock(&mu_);
    return ms_;
  }

 private:
  absl::Mutex mu_;
  std::string op_ ABSL_GUARDED_BY(mu_);
  std::string last_ ABSL_GUARDED_BY(mu_);
  absl::Time at_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, double> ms_ ABSL_GUARDED_BY(mu_);
};

void BM_PodSteps(benchmark::State& state) {
  if (NeedRoot(state)) return;
  const bool overlap = state.range(0) != 0;
  BenchController bench(overlap);
  absl::StatusOr<std::unique_ptr<Controller>>& c = bench.controller;
  if (!c.ok()) return state.SkipWithError(c.status().ToString().c_str());
  auto* impl = static_cast<sandbox::ControllerImpl*>(c->get());
  Timeline timeline;
  impl->SetStepHookForTesting([&](sandbox::Step step) {
    timeline.Mark(absl::StrCat("done ", sandbox::StepName(step)));
  });
  impl->SetCrashPointHookForTesting(
      [&](absl::string_view point) { timeline.Mark(point); });
  std::map<std::string, double> sums;  // per op: wall, plugin, own
  auto timed = [&](absl::string_view op, auto call) {
    metrics::ExecLedger ledger;
    metrics::ScopedExecLedger scope(&ledger);
    timeline.Begin(op);
    const absl::Time start = absl::Now();
    auto result = call();
    const absl::Duration wall = absl::Now() - start;
    timeline.Mark("end");
    sums[absl::StrCat(op, " wall_ms")] += absl::ToDoubleMilliseconds(wall);
    sums[absl::StrCat(op, " plugin_ms")] +=
        absl::ToDoubleMilliseconds(ledger.plugin());
    sums[absl::StrCat(op, " own_ms")] +=
        absl::ToDoubleMilliseconds(wall - ledger.plugin());
    return result;
  };
  int i = 0;
  for (auto _ : state) {
    absl::StatusOr<std::string> id =
        timed("run", [&] { return (*c)->RunPodSandbox(Pod(i++), ""); });
    if (!id.ok()) return state.SkipWithError(id.status().ToString().c_str());
    absl::Status s = timed("stop", [&] { return (*c)->StopPodSandbox(*id); });
    if (s.ok())
      s = timed("remove", [&] { return (*c)->RemovePodSandbox(*id); });
    if (!s.ok()) return state.SkipWithError(s.ToString().c_str());
  }
  for (const auto& [name, ms] : timeline.totals()) sums[name] += ms;
  for (const auto& [name, ms] : sums) {
    state.counters[name] =
        benchmark::Counter(ms, benchmark::Counter::kAvgIterations);
  }
}
BENCHMARK(BM_PodSteps)
    ->ArgName("overlap")
    ->Arg(0)
    ->Arg(1)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// 1000 stopped sandboxes on disk (records only: the memory-only paths do
// not touch their resources).
void WriteRecords(sys::Sys& sys, const ControllerOptions& o, int count) {
  sandbox::Store store(sys, o.root_dir + "/sandboxes");
  (void)store.Init().ok();
  for (int i = 0; i < count; ++i) {
    sandbox::SandboxRecord r;
    r.id = absl::StrCat(std::string(56, 'a'), absl::Hex(i, absl::kZeroPad8));
    r.config = Pod(i);
    r.runtime_handler = "runc";
    r.phase = sandbox::Phase::kStopped;
    r.ips = {absl::StrCat("10.236.", i / 250, ".", i % 250 + 2)};
    r.created_at = absl::Now();
    (void)store.Save(r, /*durable=*/false).ok();
  }
}

void BM_RecoverRecords(benchmark::State& state) {
  if (NeedRoot(state)) return;
  BenchDirs dirs;
  WriteRecords(dirs.sys(), dirs.Options(), state.range(0));
  for (auto _ : state) {
    absl::StatusOr<std::unique_ptr<Controller>> c =
        Controller::Create(dirs.sys(), dirs.Options());
    if (!c.ok()) return state.SkipWithError(c.status().ToString().c_str());
    state.PauseTiming();
    c->reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_RecoverRecords)
    ->Arg(1000)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

void BM_ListPodSandbox(benchmark::State& state) {
  if (NeedRoot(state)) return;
  BenchDirs dirs;
  WriteRecords(dirs.sys(), dirs.Options(), state.range(0));
  absl::StatusOr<std::unique_ptr<Controller>> c =
      Controller::Create(dirs.sys(), dirs.Options());
  if (!c.ok()) return state.SkipWithError(c.status().ToString().c_str());
  sandbox::ListFilter filter;
  filter.label_selector = {{"app", "bench"}};
  for (auto _ : state) {
    benchmark::DoNotOptimize((*c)->ListPodSandbox(filter));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ListPodSandbox)
    ->Arg(1000)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace podsandbox

BENCHMARK_MAIN();
