// Cost of a pod's namespaces: create a user namespace and a netns inside
// it, pin both, bring lo up; and, separately, unpin them. Real kernel work,
// so real time in milliseconds. Needs root.
//
//   bazel run //bench:namespaces_bench -- --benchmark_repetitions=5
#include <sys/mount.h>
#include <unistd.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "netns/libnl_netlink.h"
#include "netns/loopback.h"
#include "netns/namespaces.h"
#include "sys/file.h"
#include "sys/real_sys.h"
#include "userns/id_mapping.h"

namespace podsandbox {
namespace {

const userns::IdMappings kMappings = {{{0, 100000, 65536}},
                                      {{0, 100000, 65536}}};

// A pin root of its own, unmounted and removed afterwards.
class BenchPins {
 public:
  BenchPins() : root_(absl::StrCat("/run/psb-bench-", ::getpid())) {}
  ~BenchPins() {
    netns::UnmountPinDirs(sys_, root_).IgnoreError();
    (void)sys::RemoveTree(sys_, root_);
  }
  netns::NamespaceFactory& factory() { return factory_; }
  sys::Sys& sys() { return sys_; }

 private:
  sys::RealSys sys_;
  std::string root_;
  netns::NamespaceFactory factory_{sys_, root_};
};

bool NeedRoot(benchmark::State& state) {
  if (::geteuid() == 0) return false;
  state.SkipWithError("needs root");
  return true;
}

void BM_CreatePinLoopback(benchmark::State& state) {
  if (NeedRoot(state)) return;
  bool with_userns = state.range(0) != 0;
  BenchPins pins;
  if (!pins.factory().Init().ok()) return state.SkipWithError("init pin dirs");
  netns::LibnlNetlink netlink;
  for (auto _ : state) {
    absl::StatusOr<netns::PinnedNamespaces> ns =
        pins.factory().Create("bench", with_userns ? &kMappings : nullptr);
    if (!ns.ok()) return state.SkipWithError(ns.status().ToString().c_str());
    if (!netns::BringUpLoopback(pins.sys(), netlink, ns->netns).ok()) {
      return state.SkipWithError("lo up");
    }
    state.PauseTiming();
    (void)pins.factory().Remove("bench");
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CreatePinLoopback)
    ->ArgName("userns")
    ->Arg(1)
    ->Arg(0)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

void BM_Unpin(benchmark::State& state) {
  if (NeedRoot(state)) return;
  BenchPins pins;
  if (!pins.factory().Init().ok()) return state.SkipWithError("init pin dirs");
  for (auto _ : state) {
    state.PauseTiming();
    if (!pins.factory().Create("bench", &kMappings).ok()) {
      return state.SkipWithError("create");
    }
    state.ResumeTiming();
    if (!pins.factory().Remove("bench").ok())
      return state.SkipWithError("remove");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Unpin)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace podsandbox

BENCHMARK_MAIN();
