#include "container/container_runtime.h"

#include <signal.h>

#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "oci/runc_family_runtime.h"
#include "sys/file.h"
#include "sys/status.h"
#include "sys/subprocess.h"
#include "sys/unique_fd.h"

namespace podsandbox::container {

absl::StatusOr<std::unique_ptr<ContainerRuntime>> ContainerRuntime::Make(
    sys::Sys& sys, const oci::RuntimeHandler& handler) {
  if (handler.type != oci::RuntimeType::kRunc &&
      handler.type != oci::RuntimeType::kCrun) {
    return absl::FailedPreconditionError(
        absl::StrCat("runtime handler ", handler.name, " (",
                     oci::RuntimeTypeName(handler.type),
                     "): containers run on runc or crun handlers only"));
  }
  const oci::RuncFamilyTraits& traits = oci::RuncFamilyTraitsOf(handler.type);
  return std::unique_ptr<ContainerRuntime>(
      new ContainerRuntime(sys, handler, traits.not_found_markers,
                           traits.create_takes_runc_options));
}

ContainerRuntime::ContainerRuntime(sys::Sys& sys,
                                   const oci::RuntimeHandler& handler,
                                   std::vector<std::string> not_found_markers,
                                   bool takes_runc_options)
    : sys_(sys),
      cli_(sys, handler, std::move(not_found_markers)),
      takes_runc_options_(takes_runc_options) {}

absl::Status ContainerRuntime::Create(const CreateTask& task) const {
  oci::RuntimeCall call{"create", task.id};
  // runc logs create's real failure (nsexec's) only to --log.
  call.global_args = {"--log", task.runtime_log, "--log-format", "json"};
  call.log_file = task.runtime_log;
  call.args = {"create", "--bundle", task.bundle, "--pid-file", task.pid_file};
  if (takes_runc_options_) {
    if (handler().no_pivot_root) call.args.push_back("--no-pivot");
    if (handler().no_new_keyring) call.args.push_back("--no-new-keyring");
  }
  call.args.push_back(task.id);
  call.stdout_fd = task.stdout_fd;
  call.stderr_fd = task.stderr_fd;
  return cli_.Run(call).status();
}

absl::StatusOr<ExecOutcome> ContainerRuntime::Exec(
    absl::string_view id, const std::string& process_file,
    const std::string& runtime_log, absl::Duration timeout,
    size_t output_limit) const {
  std::string name(id);
  oci::RuntimeCall call{"exec", name};
  call.global_args = {"--log", runtime_log, "--log-format", "json"};
  const std::string pid_file = absl::StrCat(runtime_log, ".pid");
  call.args = {"exec", "--process", process_file, "--pid-file", pid_file, name};
  absl::StatusOr<sys::SubprocessResult> ran =
      cli_.RunRaw(call, output_limit, timeout);
  if (absl::IsDeadlineExceeded(ran.status())) {
    // The runtime's process group is killed, but the command is not in it
    // (seen with runc 1.1: the command outlived the deadline): kill it by
    // the pid the runtime wrote, through a pidfd.
    KillExecProcess(pid_file);
  }
  sys::RemoveFileIfExists(sys_, pid_file).IgnoreError();  // best effort
  ASSIGN_OR_RETURN(sys::SubprocessResult result, std::move(ran));
  // The runtime's own failure (no such container, a bad process) is in its
  // log; the command's exit code is an outcome.
  if (!result.success()) {
    absl::StatusOr<std::string> log = sys::ReadFile(runtime_log);
    std::string message =
        log.ok() ? oci::ExtractRuntimeMessage(*log) : std::string();
    if (!message.empty()) {
      return absl::InternalError(
          absl::StrCat(handler().name, " exec ", name, ": ", message));
    }
  }
  ExecOutcome out;
  out.exit_code =
      result.term_signal != 0 ? 128 + result.term_signal : result.exit_code;
  out.stdout_data = std::move(result.stdout_data);
  out.stderr_data = std::move(result.stderr_data);
  return out;
}

void ContainerRuntime::KillExecProcess(const std::string& pid_file) const {
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
}

absl::Status ContainerRuntime::Update(absl::string_view id,
                                      const std::string& resources_json) const {
  std::string name(id);
  oci::RuntimeCall call{"update", name};
  call.args = {"update", "--resources", "-", name};
  call.stdin_data = resources_json;
  return cli_.Run(call).status();
}

}  // namespace podsandbox::container
