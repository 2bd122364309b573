// One OCI runtime binary driven through its command line: create, start,
// state, kill, delete, and for containers exec and update. Implementations:
// runc_family_runtime.h (runc and crun), runsc_runtime.h; make one with
// MakeOciRuntime (runtime_factory.h).
//
// Every command runs with the handler's deadline (DeadlineExceeded when it
// passes; the runtime's process group is killed). A failing command's
// Status carries the runtime's own message (from its stderr or log.json),
// never just an exit code. "No such container" is NotFound, so Delete and
// Kill of something already gone can be treated as done.
//
// The calling thread must be in the host's namespaces: the runtime inherits
// them. Thread-safe: commands for different ids may run concurrently;
// callers serialise commands for one id.
#ifndef PODSANDBOX_OCI_RUNTIME_H_
#define PODSANDBOX_OCI_RUNTIME_H_

#include <sys/types.h>

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "oci/runtime_handler.h"
#include "oci/task_spec.h"

namespace podsandbox::oci {

struct CreateRequest {
  std::string id;
  // Holds config.json.
  std::string bundle;
  // Where the runtime writes the container's pid.
  std::string pid_file;
  // The container's stdout and stderr (it has no terminal), and the
  // runtime's own output during create.
  std::string log_file;
  // The runtime's structured log (log.json) for create, where it supports
  // one; read for the error message when create fails.
  std::string runtime_log_file;
  // When >= 0, the container's stdout (stderr) instead of log_file: a
  // container's log FIFO, which the runtime hands on to the container. Not
  // owned; the runtime's own output then goes there too.
  int stdout_fd = -1;
  int stderr_fd = -1;
};

// An extra process in a running container (`runtime exec --process`).
struct ExecRequest {
  std::string id;
  // An OCI process (config.json's "process": args, env, user, cwd...).
  std::string process_file;
  // The runtime's structured log; its messages make an error (the runtime
  // failed), never an ExecResult.
  std::string runtime_log_file;
  // When >= 0, the process's stdout (stderr); not owned. When -1, that
  // stream is captured into ExecResult, at most `output_limit` bytes.
  int stdout_fd = -1;
  int stderr_fd = -1;
  size_t output_limit = 1 << 20;
  // Zero: the handler's. After it, DeadlineExceeded and the process is
  // killed.
  absl::Duration timeout = absl::ZeroDuration();
};

// How an exec'd process ended: a result, whatever the exit code.
struct ExecResult {
  int exit_code = 0;        // the process's; 128 + n when signal n ended it
  std::string stdout_data;  // the streams captured (ExecRequest's fd -1)
  std::string stderr_data;
};

struct RuntimeState {
  std::string status;  // "created", "running", "stopped", ...
  pid_t pid = 0;       // 0 once stopped
  std::string bundle;
};

class OciRuntime {
 public:
  virtual ~OciRuntime() = default;

  virtual const RuntimeHandler& handler() const = 0;

  // Whether this runtime, on this host, can run a pod with these needs:
  // FailedPrecondition naming the handler when not. Needs no pin, path or
  // sandbox id, so the controller calls it (through CheckCanRun in
  // runtime_factory.h) while validating a request, before its first side
  // effect. The capability table (CheckHandlerSupports) unless a driver
  // refuses more.
  virtual absl::Status CheckCanRun(const PodNeeds& pod) {
    return CheckHandlerSupports(handler(), pod);
  }

  // The same for a full spec, at the pause task's start: CheckCanRun of the
  // spec's needs and whatever else the spec shows. FailedPrecondition,
  // with no side effect.
  virtual absl::Status CheckSupported(const TaskSpec& spec) = 0;

  // `runtime create`: the container exists, its process waits for Start.
  // On failure the runtime's own state for `id` may remain; Delete it.
  virtual absl::Status Create(const CreateRequest& request) = 0;
  // `runtime start`.
  virtual absl::Status Start(absl::string_view id) = 0;
  // `runtime state`, parsed. NotFound when there is no such container.
  virtual absl::StatusOr<RuntimeState> State(absl::string_view id) = 0;
  // `runtime kill <id> <signal>`. NotFound when there is no such container.
  virtual absl::Status Kill(absl::string_view id, int signal) = 0;
  // `runtime delete --force`: kills the container if needed and removes
  // the runtime's state. NotFound when there is no such container.
  virtual absl::Status Delete(absl::string_view id) = 0;

  // For containers (the pause needs neither). Drivers that cannot return
  // Unimplemented naming the handler.
  // `runtime exec --process`: runs the process and waits for it. A
  // non-zero exit is an ExecResult; the runtime's own failure is an error
  // (NotFound for no such container).
  virtual absl::StatusOr<ExecResult> Exec(const ExecRequest& request) = 0;
  // `runtime update --resources -`: `resources_json` (an OCI
  // LinuxResources object) becomes the container's cgroup limits.
  virtual absl::Status Update(absl::string_view id,
                              const std::string& resources_json) = 0;
};

}  // namespace podsandbox::oci

#endif  // PODSANDBOX_OCI_RUNTIME_H_
