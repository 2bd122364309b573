// Cost of CNI through our executor, on this machine's real plugins:
// - BM_AddDelBridgePortmap: ADD then DEL of bridge (+ host-local) and
//   portmap against a userns-owned netns, with add_ms/del_ms counters; arg
//   1 adds a port mapping (portmap then execs iptables).
// - BM_PluginDirect vs BM_PluginViaExecutor: one exec of a trivial fake
//   plugin that prints a fixed result, spawned with plain RunSubprocess, and
//   the same plugin (fake-fast: /bin/sh, no subprocesses) as a one-plugin list
//   through Executor::Add (stdin derivation, result parsing and the durable
//   cache write included). The difference is the executor's overhead per plugin
//   call.
// Real processes and namespaces, so real time in milliseconds. Needs root.
//
//   bazel run -c opt //bench:cni_bench -- --benchmark_repetitions=3
#include <sys/mount.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "benchmark/benchmark.h"
#include "cni/executor.h"
#include "cni/testing/host_network_guard.h"
#include "netns/namespaces.h"
#include "nlohmann/json.hpp"
#include "sys/file.h"
#include "sys/real_sys.h"
#include "sys/subprocess.h"
#include "userns/id_mapping.h"

namespace podsandbox {
namespace {

using json = nlohmann::json;

const userns::IdMappings kMappings = {{{0, 100000, 65536}},
                                      {{0, 100000, 65536}}};
constexpr char kBridge[] = "psbbench0";

bool NeedRoot(benchmark::State& state) {
  if (::geteuid() == 0) return false;
  state.SkipWithError("needs root");
  return true;
}

std::string FakePluginDir() {
  char cwd[4096];
  return absl::StrCat(::getcwd(cwd, sizeof(cwd)), "/testdata/cni/plugins");
}

// A scratch dir for conf, cache, IPAM and pins; removed (pins unmounted
// first) on destruction.
class Scratch {
 public:
  Scratch() : root_(absl::StrCat("/run/psb-cni-bench-", ::getpid())) {
    ok_ = sys::MakeDirs(sys_, root_ + "/net.d", 0755).ok() &&
          factory_.Init().ok();
  }
  ~Scratch() {
    netns::UnmountPinDirs(sys_, root_ + "/pins").IgnoreError();
    (void)sys::RemoveTree(sys_, root_);
  }
  bool ok() const { return ok_; }
  sys::Sys& sys() { return sys_; }
  netns::NamespaceFactory& factory() { return factory_; }
  std::string Sub(const std::string& name) const {
    return absl::StrCat(root_, "/", name);
  }
  bool WriteConf(const json& list) {
    return sys::WriteFileAtomically(sys_, Sub("net.d/10-bench.conflist"),
                                    list.dump(), 0644)
        .ok();
  }

 private:
  sys::RealSys sys_;
  std::string root_;
  netns::NamespaceFactory factory_{sys_, Sub("pins")};
  bool ok_ = false;
};

void BM_AddDelBridgePortmap(benchmark::State& state) {
  if (NeedRoot(state)) return;
  Scratch scratch;
  if (!scratch.ok()) return state.SkipWithError("scratch dir");
  cni::HostNetworkGuard guard(scratch.sys(), kBridge);
  json bridge = {{"type", "bridge"},
                 {"bridge", kBridge},
                 {"isGateway", true},
                 {"ipMasq", false},
                 {"ipam",
                  {{"type", "host-local"},
                   {"dataDir", scratch.Sub("ipam")},
                   {"ranges", {{{{"subnet", "10.233.72.0/24"}}}}},
                   {"routes", {{{"dst", "0.0.0.0/0"}}}}}}};
  json portmap = {{"type", "portmap"},
                  {"capabilities", {{"portMappings", true}}}};
  if (!scratch.WriteConf({{"cniVersion", "1.0.0"},
                          {"name", "psbbench"},
                          {"plugins", {bridge, portmap}}})) {
    return state.SkipWithError("write conf");
  }
  cni::Executor executor(scratch.sys(), scratch.Sub("net.d"), {"/usr/lib/cni"},
                         scratch.Sub("cache"), absl::Seconds(30));
  absl::StatusOr<netns::PinnedNamespaces> ns =
      scratch.factory().Create("bench", &kMappings);
  if (!ns.ok()) return state.SkipWithError(ns.status().ToString().c_str());
  cni::Attachment pod;
  pod.container_id = "bench";
  pod.netns = ns->netns;
  pod.pod_namespace = "default";
  pod.pod_name = "bench";
  pod.pod_uid = "bench-uid";
  if (state.range(0) != 0) pod.port_mappings = {{18081, 80, "tcp", ""}};
  // Warm the VERSION cache and create the bridge outside the loop.
  if (!executor.Add(pod).ok() || !executor.Del(pod).ok()) {
    (void)scratch.factory().Remove("bench");
    return state.SkipWithError("warm-up ADD/DEL failed");
  }
  absl::Duration add_total;
  absl::Duration del_total;
  for (auto _ : state) {
    absl::Time start = absl::Now();
    absl::StatusOr<cni::Result> r = executor.Add(pod);
    absl::Time added = absl::Now();
    absl::Status del = executor.Del(pod);
    del_total += absl::Now() - added;
    add_total += added - start;
    if (!r.ok() || !del.ok()) {
      state.SkipWithError((r.ok() ? del : r.status()).ToString().c_str());
      break;
    }
  }
  (void)scratch.factory().Remove("bench");
  state.SetItemsProcessed(state.iterations());
  double n = static_cast<double>(std::max<int64_t>(1, state.iterations()));
  state.counters["add_ms"] = absl::ToDoubleMilliseconds(add_total) / n;
  state.counters["del_ms"] = absl::ToDoubleMilliseconds(del_total) / n;
}
BENCHMARK(BM_AddDelBridgePortmap)
    ->Arg(0)
    ->Arg(1)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

void BM_PluginDirect(benchmark::State& state) {
  if (NeedRoot(state)) return;
  sys::RealSys sys;
  sys::Command command;
  command.path = FakePluginDir() + "/fake-fast";
  command.args = {command.path};
  command.env = {"CNI_COMMAND=ADD",          "CNI_CONTAINERID=bench",
                 "CNI_NETNS=/nonexistent",   "CNI_IFNAME=eth0",
                 "CNI_ARGS=IgnoreUnknown=1", "CNI_PATH=" + FakePluginDir(),
                 "PATH=/usr/bin:/bin"};
  command.stdin_data =
      R"({"cniVersion":"1.0.0","name":"fake","type":"fake-fast"})";
  for (auto _ : state) {
    absl::StatusOr<sys::SubprocessResult> r = sys::RunSubprocess(sys, command);
    if (!r.ok() || !r->success()) {
      state.SkipWithError("fake plugin failed");
      break;
    }
    benchmark::DoNotOptimize(r->stdout_data);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PluginDirect)->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_PluginViaExecutor(benchmark::State& state) {
  if (NeedRoot(state)) return;
  Scratch scratch;
  if (!scratch.ok()) return state.SkipWithError("scratch dir");
  if (!scratch.WriteConf({{"cniVersion", "1.0.0"},
                          {"name", "fake"},
                          {"plugins", {{{"type", "fake-fast"}}}}})) {
    return state.SkipWithError("write conf");
  }
  cni::Executor executor(scratch.sys(), scratch.Sub("net.d"), {FakePluginDir()},
                         scratch.Sub("cache"), absl::Seconds(30));
  cni::Attachment pod;
  pod.container_id = "bench";
  pod.netns = "/nonexistent";
  // Warm the VERSION cache outside the loop.
  if (!executor.Add(pod).ok()) return state.SkipWithError("warm-up ADD");
  for (auto _ : state) {
    absl::StatusOr<cni::Result> r = executor.Add(pod);
    if (!r.ok()) {
      state.SkipWithError(r.status().ToString().c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PluginViaExecutor)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace podsandbox

BENCHMARK_MAIN();
