// The OCI runtime commands a container needs, for runc and crun (whose
// command lines agree), over oci::RuntimeCli: create with the container's
// stdout and stderr as given fds (its FIFOs), start, kill, delete, exec of
// an extra process, and update of cgroup limits.
//
// Why not oci::OciRuntime: that interface is shaped by the pause task
// (stdout and stderr to one file, no exec, no update). When it grows those
// three, this file goes.
//
// Errors as RuntimeCli's: the runtime's own message, NotFound for "no such
// container". Thread-safe: commands for different ids may run concurrently;
// callers serialise commands for one id, exec aside.
#ifndef PODSANDBOX_CONTAINER_CONTAINER_RUNTIME_H_
#define PODSANDBOX_CONTAINER_CONTAINER_RUNTIME_H_

#include <cstddef>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "oci/runtime_cli.h"
#include "oci/runtime_handler.h"
#include "sys/sys.h"

namespace podsandbox::container {

struct CreateTask {
  std::string id;
  std::string bundle;       // holds config.json
  std::string pid_file;     // where the runtime writes the init's pid
  std::string runtime_log;  // the runtime's JSON log, for create's errors
  int stdout_fd = -1;       // the container's stdout and stderr
  int stderr_fd = -1;
};

struct ExecOutcome {
  int exit_code = 0;  // the command's; 128 + n when signal n ended it
  std::string stdout_data;
  std::string stderr_data;
};

class ContainerRuntime {
 public:
  // FailedPrecondition naming the handler for a runtime type that cannot
  // run containers here yet (runsc: it cannot join the pod's user
  // namespace, and its containers need its own sandbox; builtin: pause
  // only).
  static absl::StatusOr<std::unique_ptr<ContainerRuntime>> Make(
      sys::Sys& sys, const oci::RuntimeHandler& handler);

  const oci::RuntimeHandler& handler() const { return cli_.handler(); }

  absl::Status Create(const CreateTask& task) const;
  absl::Status Start(absl::string_view id) const { return cli_.Start(id); }
  absl::Status Kill(absl::string_view id, int signal) const {
    return cli_.Kill(id, signal);
  }
  absl::Status Delete(absl::string_view id) const { return cli_.Delete(id); }

  // `exec --process <process_file>`: runs the process described there in
  // container `id` and returns how it ended. `runtime_log` receives the
  // runtime's own errors, which make an error (not an outcome). Each stream
  // keeps at most `output_limit` bytes. DeadlineExceeded after `timeout`
  // (the runtime and the command are killed).
  absl::StatusOr<ExecOutcome> Exec(absl::string_view id,
                                   const std::string& process_file,
                                   const std::string& runtime_log,
                                   absl::Duration timeout,
                                   size_t output_limit) const;

  // `update --resources -` with `resources_json`, an OCI LinuxResources.
  absl::Status Update(absl::string_view id,
                      const std::string& resources_json) const;

 private:
  ContainerRuntime(sys::Sys& sys, const oci::RuntimeHandler& handler,
                   std::vector<std::string> not_found_markers,
                   bool takes_runc_options);

  // SIGKILLs the process whose pid `pid_file` holds, if it still runs.
  void KillExecProcess(const std::string& pid_file) const;

  sys::Sys& sys_;
  oci::RuntimeCli cli_;
  const bool takes_runc_options_;
};

}  // namespace podsandbox::container

#endif  // PODSANDBOX_CONTAINER_CONTAINER_RUNTIME_H_
