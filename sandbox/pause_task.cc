#include "sandbox/pause_task.h"

#include <linux/capability.h>
#include <signal.h>

#include <memory>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "nlohmann/json.hpp"
#include "oci/runtime_factory.h"
#include "oci/spec.h"
#include "sandbox/cleanup_stack.h"
#include "sys/file.h"
#include "sys/proc.h"
#include "sys/status.h"

namespace podsandbox::sandbox {
namespace {

// The pause's stdin, stdout and stderr.
constexpr char kPauseStdio[] = "/dev/null";
// How often Stop asks a runtime whether an unwatched task has stopped.
constexpr absl::Duration kStatePollInterval = absl::Milliseconds(50);
// How long a failed Start or a Delete waits for a killed pause's exit.
constexpr absl::Duration kReapWait = absl::Seconds(5);

std::string Join(absl::string_view dir, absl::string_view name) {
  return absl::StrCat(dir, "/", name);
}

absl::StatusOr<pid_t> ReadPidFile(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, sys::ReadFile(path));
  pid_t pid = 0;
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(text), &pid) || pid <= 0) {
    return absl::InternalError(
        absl::StrCat("read ", path, ": not a pid: \"", text, "\""));
  }
  return pid;
}

}  // namespace

absl::StatusOr<bool> HasCapSysResource() {
  ASSIGN_OR_RETURN(std::string status, sys::ReadFile("/proc/self/status"));
  for (absl::string_view line : absl::StrSplit(status, '\n')) {
    if (!absl::ConsumePrefix(&line, "CapEff:")) continue;
    uint64_t caps = 0;
    if (!absl::SimpleHexAtoi(absl::StripAsciiWhitespace(line), &caps)) break;
    return (caps >> CAP_SYS_RESOURCE) & 1;
  }
  return absl::InternalError("parse /proc/self/status: no CapEff line");
}

PauseTask::PauseTask(sys::Sys& sys, sys::OrphanReaper* reaper, Options options,
                     oci::ExitWatcher::Callback on_exit)
    : sys_(sys),
      reaper_(reaper),
      options_(std::move(options)),
      watcher_(sys, reaper, std::move(on_exit)) {}

absl::Status PauseTask::Init() { return watcher_.Start(); }

std::unique_ptr<oci::OciRuntime> PauseTask::MakeRuntime(
    const oci::RuntimeHandler& handler) {
  if (options_.make_runtime) return options_.make_runtime(handler);
  return oci::MakeOciRuntime(sys_, handler);
}

absl::StatusOr<PauseProcess> PauseTask::Start(
    const oci::TaskSpec& spec, const oci::RuntimeHandler& handler,
    absl::string_view bundle_dir) {
  return Start(spec, handler, bundle_dir, [] { return absl::OkStatus(); });
}

absl::StatusOr<PauseProcess> PauseTask::Start(
    const oci::TaskSpec& spec, const oci::RuntimeHandler& handler,
    absl::string_view bundle_dir,
    absl::FunctionRef<absl::Status()> before_start) {
  // Everything that can refuse the request does so before any side effect.
  std::unique_ptr<oci::OciRuntime> runtime = MakeRuntime(handler);
  ASSIGN_OR_RETURN(nlohmann::json config,
                   oci::BuildOciSpec(spec, handler.type, options_.rootfs));
  RETURN_IF_ERROR(runtime->CheckSupported(spec));
  if (spec.oom_score_adj < 0) {
    ASSIGN_OR_RETURN(bool cap, HasCapSysResource());
    RETURN_IF_ERROR(oci::CheckOomScoreAdj(spec.oom_score_adj, cap));
  }
  if (bundle_dir.empty() || bundle_dir[0] != '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("pause bundle ", bundle_dir, ": must be absolute"));
  }

  const std::string& id = spec.sandbox_id;
  const std::string bundle(bundle_dir);
  CleanupStack undo(absl::StrCat("pause task of sandbox ", id));

  // 0711: the runtime (host root) reads it; nobody else lists it.
  RETURN_IF_ERROR(sys::MakeDirs(sys_, bundle, 0711));
  undo.Push("remove bundle",
            [this, bundle] { return sys::RemoveTree(sys_, bundle); });
  // The bundle is on tmpfs, so a crash loses it anyway: no fsync.
  if (absl::Status s = sys::WriteFileAtomically(
          sys_, Join(bundle, "config.json"), config.dump(2), 0644,
          /*durable=*/false);
      !s.ok()) {
    return undo.Unwind(s);
  }

  // The pause's stdout and stderr (which the runtime's create shares) go to
  // /dev/null: a file would grow without bound on the state tmpfs for as
  // long as anything in the pod can make the pause write. The runtime's
  // own errors come from its structured log.
  oci::CreateRequest create{id, bundle, Join(bundle, kPidFile), kPauseStdio,
                            Join(bundle, kRuntimeLog)};
  // Pushed before create: a create that fails half way can leave the
  // runtime's state behind.
  std::shared_ptr<oci::OciRuntime> shared_runtime = std::move(runtime);
  undo.Push("delete runtime state", [this, shared_runtime, id]() {
    absl::Status s = shared_runtime->Delete(id);
    if (!s.ok() && !absl::IsNotFound(s)) return s;
    // delete --force killed the pause; the watcher reaps it.
    if (!watcher_.WaitForExit(id, kReapWait)) {
      return absl::DeadlineExceededError(absl::StrCat(
          "pause of sandbox ", id, " still running after runtime delete"));
    }
    watcher_.Forget(id);
    return absl::OkStatus();
  });
  if (absl::Status s = shared_runtime->Create(create); !s.ok()) {
    return undo.Unwind(s);
  }

  absl::StatusOr<pid_t> pid = ReadPidFile(create.pid_file);
  if (!pid.ok()) return undo.Unwind(pid.status());
  // The pause is our child now (we are the subreaper its runtime left it
  // to). Claim it before the reaper's next scan could take it; the watcher
  // reaps it from here on.
  if (reaper_ != nullptr) reaper_->Claim(*pid);
  sys::SysResult pidfd = sys_.PidfdOpen(*pid, 0);
  if (!pidfd.ok()) {
    if (reaper_ != nullptr) reaper_->Release(*pid);
    return undo.Unwind(sys::ErrnoError(pidfd.err,
                                       "pidfd_open pause pid %d "
                                       "of sandbox %s",
                                       *pid, id));
  }
  // Read after pidfd_open: if the pid named another process by now, the
  // start time would say so, and this pidfd would refer to that one.
  absl::StatusOr<sys::ProcStat> stat = sys::ReadProcStat(*pid);
  if (!stat.ok()) {
    if (reaper_ != nullptr) reaper_->Release(*pid);
    return undo.Unwind(sys::Annotate(
        stat.status(), absl::StrCat("pause of sandbox ", id, " exited")));
  }
  if (absl::Status s =
          watcher_.Watch(id, *pid, sys::UniqueFd(static_cast<int>(pidfd.value)),
                         /*notify=*/false);
      !s.ok()) {
    if (reaper_ != nullptr) reaper_->Release(*pid);
    return undo.Unwind(s);
  }

  if (absl::Status s = before_start(); !s.ok()) return undo.Unwind(s);
  if (absl::Status s = shared_runtime->Start(id); !s.ok()) {
    return undo.Unwind(s);
  }
  std::move(undo).Commit();
  watcher_.Notify(id);
  return PauseProcess{*pid, stat->start_time};
}

bool PauseTask::WaitStopped(oci::OciRuntime& runtime, absl::string_view id,
                            absl::Duration timeout) {
  if (watcher_.IsWatched(id)) return watcher_.WaitForExit(id, timeout);
  absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    absl::StatusOr<oci::RuntimeState> state = runtime.State(id);
    if (absl::IsNotFound(state.status())) return true;
    if (state.ok() && state->status == "stopped") return true;
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(kStatePollInterval);
  }
}

absl::Status PauseTask::Stop(const oci::RuntimeHandler& handler,
                             absl::string_view id, absl::Duration grace) {
  std::unique_ptr<oci::OciRuntime> runtime = MakeRuntime(handler);
  absl::Status term = runtime->Kill(id, SIGTERM);
  if (absl::IsNotFound(term)) return absl::OkStatus();
  // Other kill errors ("container not running") are judged by whether the
  // task is stopped, below.
  if (WaitStopped(*runtime, id, term.ok() ? grace : absl::ZeroDuration())) {
    return absl::OkStatus();
  }
  absl::Status kill = runtime->Kill(id, SIGKILL);
  if (absl::IsNotFound(kill)) return absl::OkStatus();
  if (WaitStopped(*runtime, id, options_.kill_wait)) return absl::OkStatus();
  if (!term.ok()) return term;
  if (!kill.ok()) return kill;
  return absl::DeadlineExceededError(
      absl::StrCat("stop pause of sandbox ", id, ": still running ",
                   absl::FormatDuration(options_.kill_wait), " after SIGKILL"));
}

absl::Status PauseTask::Delete(const oci::RuntimeHandler& handler,
                               absl::string_view id,
                               absl::string_view bundle_dir) {
  std::unique_ptr<oci::OciRuntime> runtime = MakeRuntime(handler);
  absl::Status s = runtime->Delete(id);
  if (!s.ok() && !absl::IsNotFound(s)) return s;
  // delete --force has killed a running pause; let the watcher reap it
  // rather than leave a zombie for the reaper's next scans.
  if (!watcher_.WaitForExit(id, kReapWait)) {
    return absl::DeadlineExceededError(
        absl::StrCat("delete pause of sandbox ", id, ": still running after ",
                     handler.name, " delete --force"));
  }
  watcher_.Forget(id);
  if (!bundle_dir.empty()) RETURN_IF_ERROR(sys::RemoveTree(sys_, bundle_dir));
  return absl::OkStatus();
}

absl::Status PauseTask::Reattach(absl::string_view id,
                                 const PauseProcess& pause) {
  std::string what =
      absl::StrCat("re-attach pause of sandbox ", id, " (pid ", pause.pid, ")");
  sys::SysResult pidfd = sys_.PidfdOpen(pause.pid, 0);
  if (!pidfd.ok() && pidfd.err == ESRCH) {
    return absl::NotFoundError(absl::StrCat(what, ": no such process"));
  }
  if (!pidfd.ok()) return sys::ErrnoError(pidfd.err, "%s", what);
  sys::UniqueFd fd(static_cast<int>(pidfd.value));
  // Checked after pidfd_open, which pins the process: a matching start
  // time now means the pidfd refers to our pause, not a newcomer.
  absl::StatusOr<sys::ProcStat> stat = sys::ReadProcStat(pause.pid);
  if (absl::IsNotFound(stat.status())) {
    return absl::NotFoundError(absl::StrCat(what, ": exited"));
  }
  RETURN_IF_ERROR(sys::Annotate(stat.status(), what));
  if (stat->start_time != pause.start_time) {
    return absl::NotFoundError(
        absl::StrCat(what, ": the pid now names another process (start time ",
                     stat->start_time, ", recorded ", pause.start_time, ")"));
  }
  if (reaper_ != nullptr) reaper_->Claim(pause.pid);
  absl::Status s = watcher_.Watch(id, pause.pid, std::move(fd), true);
  if (!s.ok() && reaper_ != nullptr) reaper_->Release(pause.pid);
  return s;
}

}  // namespace podsandbox::sandbox
