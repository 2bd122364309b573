// Our pause task against the runtime binary run by hand on the same bundle:
// create+start, and kill+delete, for runc and crun (and ours alone for
// builtin, which starts the pause without a runtime binary). The difference is
// our overhead (spec, bundle, pid file, pidfd, watcher, rollback bookkeeping).
// Host-network pods without a user namespace, so namespaces cost nothing
// here (bench/namespaces_bench measures them). Needs root.
//
//   bazel run -c opt //bench:pause_task_bench -- --benchmark_repetitions=3
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "benchmark/benchmark.h"
#include "nlohmann/json.hpp"
#include "oci/runtime_handler.h"
#include "oci/spec.h"
#include "sandbox/pause_task.h"
#include "sandbox/testing/pause_task_env.h"
#include "sys/cgroup_layout.h"
#include "sys/file.h"
#include "sys/orphan_reaper.h"
#include "sys/proc.h"
#include "sys/real_sys.h"

namespace podsandbox {
namespace {

using oci::RuntimeHandler;
using oci::RuntimeType;
using oci::TaskSpec;
using sandbox::PauseProcess;
using sandbox::PauseTask;

// By benchmark argument: runc, crun, and builtin (the daemon starts the
// pause itself: no binary, and no by-hand counterpart).
const char* const kRuntimes[] = {"/usr/sbin/runc", "/usr/bin/crun", ""};
const RuntimeType kTypes[] = {RuntimeType::kRunc, RuntimeType::kCrun,
                              RuntimeType::kBuiltin};

// Shared by every benchmark: one subreaper, one rootfs, one task.
struct Env {
  sys::RealSys sys;
  std::string dir = absl::StrCat("/run/psb-bench-pause-", ::getpid());
  sandbox::testing::PauseTaskEnv pause{sys, dir, nullptr, absl::Seconds(1)};
  PauseTask& task = pause.task();
  sys::OrphanReaper& reaper = pause.reaper();
  bool ok = pause.PrepareRootfs().ok() && pause.Start().ok();

  ~Env() {
    (void)sys::RemoveTree(sys, dir);
    // The runtimes make /psb-bench in every hierarchy of this host's
    // layout (v1, hybrid or v2 alone).
    if (absl::StatusOr<std::vector<std::string>> dirs =
            sys::HostCgroupDirectories("/psb-bench");
        dirs.ok()) {
      for (const std::string& d : *dirs) ::rmdir(d.c_str());
    }
  }
};

Env* g_env = nullptr;  // made in main, torn down after the benchmarks

Env& env() { return *g_env; }

RuntimeHandler Handler(int64_t index) {
  RuntimeHandler h;
  h.path = kRuntimes[index];
  h.type = kTypes[index];
  h.name = std::string(oci::RuntimeTypeName(h.type));
  h.root = absl::StrCat(env().dir, "/state-", h.name);
  return h;
}

TaskSpec Spec(const std::string& id) {
  TaskSpec spec;
  spec.sandbox_id = id;
  spec.pod_name = "bench";
  spec.pod_namespace = "default";
  spec.pod_uid = "uid";
  spec.cgroup_parent = "/psb-bench";
  return spec;
}

// Until the pause handles SIGTERM (a TERM sent before is dropped). It must
// be pause itself: runc's init, before it execs pause, catches every signal
// too, and a TERM it catches is lost at the exec.
void WaitReady(pid_t pid) {
  for (int i = 0; i < 5000; ++i) {
    absl::StatusOr<std::string> comm =
        sys::ReadFile(absl::StrCat("/proc/", pid, "/comm"));
    if (!comm.ok()) return;
    if (absl::StripAsciiWhitespace(*comm) != "pause") {
      absl::SleepFor(absl::Microseconds(200));
      continue;
    }
    absl::StatusOr<std::string> status =
        sys::ReadFile(absl::StrCat("/proc/", pid, "/status"));
    if (!status.ok()) return;
    for (absl::string_view line : absl::StrSplit(*status, '\n')) {
      uint64_t mask = 0;
      if (absl::ConsumePrefix(&line, "SigCgt:") &&
          absl::SimpleHexAtoi(absl::StripAsciiWhitespace(line), &mask) &&
          (mask & (1ull << (SIGTERM - 1)))) {
        return;
      }
    }
    absl::SleepFor(absl::Microseconds(200));
  }
}

// The runtime by hand: posix_spawn, stdio to /dev/null, waitpid.
bool Run(const RuntimeHandler& h, std::vector<std::string> args) {
  std::vector<std::string> argv = {h.path, "--root", h.root};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> cargv;
  for (std::string& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  ::posix_spawn_file_actions_init(&actions);
  for (int fd : {0, 1, 2}) {
    ::posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", O_RDWR, 0);
  }
  char path_env[] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
  char* envp[] = {path_env, nullptr};
  pid_t pid;
  int err = ::posix_spawn(&pid, h.path.c_str(), &actions, nullptr, cargv.data(),
                          envp);
  ::posix_spawn_file_actions_destroy(&actions);
  if (err != 0) return false;
  int status = 0;
  return ::waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
         WEXITSTATUS(status) == 0;
}

bool NeedRoot(benchmark::State& state) {
  if (::geteuid() != 0) {
    state.SkipWithError("needs root");
    return true;
  }
  if (!env().ok) {
    state.SkipWithError("setup failed (pause rootfs or subreaper)");
    return true;
  }
  return false;
}

void BM_CreateStart_Ours(benchmark::State& state) {
  if (NeedRoot(state)) return;
  RuntimeHandler h = Handler(state.range(0));
  std::string id = absl::StrCat("bench-ours-", h.name);
  std::string bundle = absl::StrCat(env().dir, "/", id);
  for (auto _ : state) {
    absl::StatusOr<PauseProcess> p = env().task.Start(Spec(id), h, bundle);
    state.PauseTiming();
    if (!p.ok()) return state.SkipWithError(p.status().ToString().c_str());
    if (!env().task.Delete(h, id, bundle).ok()) {
      return state.SkipWithError("delete");
    }
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations());
}

// The bundle the by-hand benchmarks give the runtime: the same config.json
// our pause task writes.
bool WriteBundle(const RuntimeHandler& h, const std::string& id,
                 const std::string& bundle) {
  absl::StatusOr<nlohmann::json> spec =
      oci::BuildOciSpec(Spec(id), h.type, env().dir + "/rootfs");
  return spec.ok() && sys::MakeDirs(env().sys, bundle, 0711).ok() &&
         sys::WriteFileAtomically(env().sys, bundle + "/config.json",
                                  spec->dump(), 0644, /*durable=*/false)
             .ok();
}

void BM_CreateStart_ByHand(benchmark::State& state) {
  if (NeedRoot(state)) return;
  RuntimeHandler h = Handler(state.range(0));
  std::string id = absl::StrCat("bench-hand-", h.name);
  std::string bundle = absl::StrCat(env().dir, "/", id);
  if (!WriteBundle(h, id, bundle)) return state.SkipWithError("bundle");
  std::string pid_file = bundle + "/pid";
  for (auto _ : state) {
    bool ok =
        Run(h, {"create", "--bundle", bundle, "--pid-file", pid_file, id}) &&
        Run(h, {"start", id});
    state.PauseTiming();
    if (!ok) return state.SkipWithError("runtime create/start failed");
    Run(h, {"delete", "--force", id});
    state.ResumeTiming();
  }
  (void)sys::RemoveTree(env().sys, bundle);
  state.SetItemsProcessed(state.iterations());
}

void BM_KillDelete_Ours(benchmark::State& state) {
  if (NeedRoot(state)) return;
  RuntimeHandler h = Handler(state.range(0));
  std::string id = absl::StrCat("bench-ours-", h.name);
  std::string bundle = absl::StrCat(env().dir, "/", id);
  for (auto _ : state) {
    state.PauseTiming();
    absl::StatusOr<PauseProcess> p = env().task.Start(Spec(id), h, bundle);
    if (!p.ok()) return state.SkipWithError(p.status().ToString().c_str());
    WaitReady(p->pid);
    state.ResumeTiming();
    if (!env().task.Stop(h, id, absl::Seconds(5)).ok() ||
        !env().task.Delete(h, id, bundle).ok()) {
      return state.SkipWithError("stop/delete");
    }
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_KillDelete_ByHand(benchmark::State& state) {
  if (NeedRoot(state)) return;
  RuntimeHandler h = Handler(state.range(0));
  std::string id = absl::StrCat("bench-hand-", h.name);
  std::string bundle = absl::StrCat(env().dir, "/", id);
  if (!WriteBundle(h, id, bundle)) return state.SkipWithError("bundle");
  std::string pid_file = bundle + "/pid";
  for (auto _ : state) {
    state.PauseTiming();
    pid_t pid = 0;
    if (!Run(h, {"create", "--bundle", bundle, "--pid-file", pid_file, id}) ||
        !Run(h, {"start", id})) {
      return state.SkipWithError("runtime create/start failed");
    }
    absl::StatusOr<std::string> text = sys::ReadFile(pid_file);
    if (!text.ok() ||
        !absl::SimpleAtoi(absl::StripAsciiWhitespace(*text), &pid)) {
      return state.SkipWithError("pid file");
    }
    env().reaper.Claim(pid);
    WaitReady(pid);
    state.ResumeTiming();
    // The same work as ours: TERM, wait for the exit (we are the
    // subreaper, so waitpid), delete.
    bool ok = Run(h, {"kill", id, "15"}) && ::waitpid(pid, nullptr, 0) == pid;
    ok = Run(h, {"delete", "--force", id}) && ok;
    state.PauseTiming();
    env().reaper.Release(pid);
    if (!ok) return state.SkipWithError("kill/delete failed");
    state.ResumeTiming();
  }
  (void)sys::RemoveTree(env().sys, bundle);
  state.SetItemsProcessed(state.iterations());
}

void Runtimes(benchmark::internal::Benchmark* b) {
  b->ArgName("runc_crun")->Arg(0)->Arg(1);
  b->UseRealTime()->Unit(benchmark::kMillisecond)->Iterations(30);
}

void RuntimesAndBuiltin(benchmark::internal::Benchmark* b) {
  b->ArgName("runc_crun_builtin")->Arg(0)->Arg(1)->Arg(2);
  b->UseRealTime()->Unit(benchmark::kMillisecond)->Iterations(30);
}

BENCHMARK(BM_CreateStart_Ours)->Apply(RuntimesAndBuiltin);
BENCHMARK(BM_CreateStart_ByHand)->Apply(Runtimes);
BENCHMARK(BM_KillDelete_Ours)->Apply(RuntimesAndBuiltin);
BENCHMARK(BM_KillDelete_ByHand)->Apply(Runtimes);

}  // namespace
}  // namespace podsandbox

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  podsandbox::g_env = new podsandbox::Env();
  benchmark::RunSpecifiedBenchmarks();
  delete podsandbox::g_env;
  return 0;
}
