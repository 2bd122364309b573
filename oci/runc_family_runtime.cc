#include "oci/runc_family_runtime.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "sys/file.h"
#include "sys/log.h"
#include "sys/status.h"
#include "sys/subprocess.h"
#include "sys/unique_fd.h"

namespace podsandbox::oci {
namespace {

// How long a timed-out exec's process gets to die of SIGKILL.
constexpr absl::Duration kExecKillWait = absl::Seconds(5);

}  // namespace

const RuncFamilyTraits& RuncFamilyTraitsOf(RuntimeType type) {
  static const RuncFamilyTraits kRunc{{"container does not exist"},
                                      /*create_takes_runc_options=*/true};
  // crun reports a missing container as its missing status file:
  // "error opening file `<root>/<id>/status`: No such file or directory".
  static const RuncFamilyTraits kCrun{{"/status`: No such file or directory"},
                                      /*create_takes_runc_options=*/false};
  PSB_CHECK(type == RuntimeType::kRunc || type == RuntimeType::kCrun);
  return type == RuntimeType::kCrun ? kCrun : kRunc;
}

RuncFamilyRuntime::RuncFamilyRuntime(sys::Sys& sys, RuntimeHandler handler)
    : sys_(sys),
      traits_(RuncFamilyTraitsOf(handler.type)),
      cli_(sys, std::move(handler), traits_.not_found_markers) {}

absl::Status RuncFamilyRuntime::CheckSupported(const TaskSpec& spec) {
  return CheckCanRun(PodNeedsOf(spec));
}

absl::Status RuncFamilyRuntime::Create(const CreateRequest& request) {
  RuntimeCall call{"create", request.id};
  // runc logs create's real failure (nsexec's) only to --log; crun writes
  // it to stderr too. Either way the JSON log is what the error quotes.
  if (!request.runtime_log_file.empty()) {
    call.global_args = {"--log", request.runtime_log_file, "--log-format",
                        "json"};
    call.log_file = request.runtime_log_file;
  }
  call.args = {"create", "--bundle", request.bundle, "--pid-file",
               request.pid_file};
  if (traits_.create_takes_runc_options) {
    if (handler().no_pivot_root) call.args.push_back("--no-pivot");
    if (handler().no_new_keyring) call.args.push_back("--no-new-keyring");
  }
  call.args.push_back(request.id);
  call.output_file = request.log_file;
  call.stdout_fd = request.stdout_fd;
  call.stderr_fd = request.stderr_fd;
  return cli_.Run(call).status();
}

absl::StatusOr<ExecResult> RuncFamilyRuntime::Exec(const ExecRequest& request) {
  RuntimeCall call{"exec", request.id};
  const std::string& log = request.runtime_log_file;
  if (!log.empty()) call.global_args = {"--log", log, "--log-format", "json"};
  // Where the runtime writes the process's pid, to kill it past the
  // deadline.
  const std::string pid_file =
      absl::StrCat(log.empty() ? request.process_file : log, ".pid");
  call.args = {"exec",       "--process", request.process_file,
               "--pid-file", pid_file,    request.id};
  call.stdout_fd = request.stdout_fd;
  call.stderr_fd = request.stderr_fd;
  absl::StatusOr<sys::SubprocessResult> ran =
      cli_.RunRaw(call, request.output_limit, request.timeout);
  if (absl::IsDeadlineExceeded(ran.status())) {
    // The runtime's process group is killed, but the process is not in it
    // (seen with runc 1.1: it outlived the deadline): kill it by the pid
    // the runtime wrote, through a pidfd.
    KillExecProcess(pid_file);
  }
  sys::RemoveFileIfExists(sys_, pid_file).IgnoreError();  // best effort
  ASSIGN_OR_RETURN(sys::SubprocessResult result, std::move(ran));
  // The runtime's own failure (no such container, a bad process) is in its
  // log; the process's exit code is a result. runc and crun exit with the
  // process's code, so only the log tells them apart.
  if (!result.success() && !log.empty()) {
    absl::StatusOr<std::string> text = sys::ReadFile(log);
    std::string message = text.ok() ? ExtractRuntimeMessage(*text) : "";
    if (!message.empty()) {
      std::string what =
          absl::StrCat(handler().name, " exec ", request.id, ": ", message);
      for (const std::string& marker : traits_.not_found_markers) {
        if (absl::StrContains(message, marker)) {
          return absl::NotFoundError(what);
        }
      }
      return absl::InternalError(what);
    }
  }
  ExecResult out;
  out.exit_code =
      result.term_signal != 0 ? 128 + result.term_signal : result.exit_code;
  out.stdout_data = std::move(result.stdout_data);
  out.stderr_data = std::move(result.stderr_data);
  return out;
}

void RuncFamilyRuntime::KillExecProcess(const std::string& pid_file) {
  absl::StatusOr<std::string> text = sys::ReadFile(pid_file);
  pid_t pid = 0;
  if (!text.ok() ||
      !absl::SimpleAtoi(absl::StripAsciiWhitespace(*text), &pid) || pid <= 0) {
    return;  // never started, or the runtime died before writing it
  }
  sys::SysResult pidfd = sys_.PidfdOpen(pid, 0);
  if (!pidfd.ok()) return;  // gone already
  sys::UniqueFd fd(static_cast<int>(pidfd.value));
  // Best effort: it may have exited meanwhile (ESRCH).
  (void)sys_.PidfdSendSignal(fd.get(), SIGKILL);
  // Its parent, the runtime, is dead already (its group was killed at the
  // deadline), so the process is an orphan adopted by the nearest
  // subreaper: podsandboxd. Reap it before ExecSync answers, as containerd
  // waits for the exec's exit: a zombie still shows in the container's
  // /proc (critest's `pgrep sleep` right after the timeout counts it) until
  // the orphan reaper's next scans. Bounded: a process in a frozen cgroup
  // does not die until thawed, and then the orphan reaper takes it.
  struct pollfd exited = {fd.get(), POLLIN, 0};
  int ready;
  do {
    ready = poll(&exited, 1,
                 static_cast<int>(absl::ToInt64Milliseconds(kExecKillWait)));
  } while (ready < 0 && errno == EINTR);
  if (ready <= 0) {
    PSB_LOG(kWarning, "%s exec: pid %d did not exit within %s of SIGKILL",
            handler().name, pid, absl::FormatDuration(kExecKillWait));
    return;
  }
  siginfo_t info = {};
  // ECHILD: not ours (the daemon is no subreaper, or the reaper was first).
  (void)sys_.Waitid(P_PIDFD, static_cast<id_t>(fd.get()), &info,
                    WEXITED | WNOHANG);
}

absl::Status RuncFamilyRuntime::Update(absl::string_view id,
                                       const std::string& resources_json) {
  std::string name(id);
  RuntimeCall call{"update", name};
  call.args = {"update", "--resources", "-", name};
  call.stdin_data = resources_json;
  return cli_.Run(call).status();
}

}  // namespace podsandbox::oci
