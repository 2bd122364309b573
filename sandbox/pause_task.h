// The pause task of a pod sandbox: writes its OCI bundle, has the selected
// runtime create and start it, stops and deletes it, and supervises it.
// The controller's last RunPodSandbox step and its first Stop/Remove steps.
//
// Start is atomic: on any failure the runtime's state, the bundle and the
// process are gone again, and the error says what failed (with the
// runtime's own message). Stop and Delete are idempotent: an unknown or
// already stopped task is success.
//
// Supervision: each started pause is watched through a pidfd (see
// oci/exit_watcher.h) and `on_exit` is called within milliseconds of its
// exit. The daemon must be a child subreaper (sys::OrphanReaper started)
// for the pause to be its child and its exit status to be known. After a
// daemon restart, Reattach resumes watching a recorded pause, refusing a
// pid that now names another process.
//
// Runtimes run in the calling thread's namespaces: call from a thread in
// the host's. Thread-safe; callers serialise calls for one sandbox id.
#ifndef PODSANDBOX_SANDBOX_PAUSE_TASK_H_
#define PODSANDBOX_SANDBOX_PAUSE_TASK_H_

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "oci/exit_watcher.h"
#include "oci/runtime.h"
#include "oci/runtime_factory.h"
#include "oci/runtime_handler.h"
#include "oci/task_spec.h"
#include "sys/orphan_reaper.h"
#include "sys/sys.h"

namespace podsandbox::sandbox {

// Identifies one pause process for its lifetime, even across PID reuse.
struct PauseProcess {
  pid_t pid = 0;
  uint64_t start_time = 0;  // field 22 of /proc/<pid>/stat

  friend bool operator==(const PauseProcess& a, const PauseProcess& b) {
    return a.pid == b.pid && a.start_time == b.start_time;
  }
};

// Files in a pause bundle.
inline constexpr char kPidFile[] = "pause.pid";
inline constexpr char kRuntimeLog[] = "runtime-log.json";

class PauseTask {
 public:
  struct Options {
    // The shared read-only rootfs (see sandbox/pause/rootfs.h).
    std::string rootfs;
    // How long Stop waits after SIGKILL before giving up.
    absl::Duration kill_wait = absl::Seconds(10);
    // Makes the driver for a handler. Empty: oci::MakeOciRuntime. Tests
    // without root pass a fake's (oci/testing/fake_oci_runtime.h).
    oci::OciRuntimeMaker make_runtime;
  };

  // `reaper` may be null (tests without a subreaper): exits are still
  // reported, with unknown statuses. `sys` and `reaper` outlive this.
  PauseTask(sys::Sys& sys, sys::OrphanReaper* reaper, Options options,
            oci::ExitWatcher::Callback on_exit);

  // Starts the watcher thread. Call once before anything else.
  absl::Status Init();

  // Creates and starts the pause of `spec` with `handler`, its bundle in
  // `bundle_dir` (created if missing; removed on failure).
  // Errors, all before any side effect unless noted: InvalidArgument for a
  // bad spec; FailedPrecondition when the handler's runtime cannot run it
  // or the host refuses its oom_score_adj; after side effects (all undone):
  // the runtime's failure with its message, DeadlineExceeded.
  absl::StatusOr<PauseProcess> Start(const oci::TaskSpec& spec,
                                     const oci::RuntimeHandler& handler,
                                     absl::string_view bundle_dir);
  // The same, running `before_start` on this thread between the runtime's
  // create and start, so the caller can finish work that only start needs
  // (the pod's network) while create runs. Its error undoes the create and
  // is returned.
  absl::StatusOr<PauseProcess> Start(
      const oci::TaskSpec& spec, const oci::RuntimeHandler& handler,
      absl::string_view bundle_dir,
      absl::FunctionRef<absl::Status()> before_start);

  // SIGTERM, then SIGKILL once `grace` passed, then waits for the exit.
  // (A TERM that lands before the pause installed its handlers, just after
  // Start, is dropped by the kernel for a pid namespace's init; the KILL
  // after `grace` still ends it.)
  // OK when the task is gone or stopped (also if it never existed).
  // DeadlineExceeded if it outlives SIGKILL by Options::kill_wait.
  absl::Status Stop(const oci::RuntimeHandler& handler, absl::string_view id,
                    absl::Duration grace);

  // Deletes the runtime's state (killing the pause if needed), stops
  // watching and removes `bundle_dir`. Idempotent.
  absl::Status Delete(const oci::RuntimeHandler& handler, absl::string_view id,
                      absl::string_view bundle_dir);

  // Resumes watching a pause recorded before a restart. NotFound when it
  // is gone, or when `pid` now names a different process (start time
  // differs). AlreadyExists if `id` is watched.
  absl::Status Reattach(absl::string_view id, const PauseProcess& pause);

  oci::ExitWatcher& watcher() { return watcher_; }

 private:
  // Waits until the task has exited: through the watcher if it watches
  // it, else by polling the runtime's state. True if it exited in time.
  bool WaitStopped(oci::OciRuntime& runtime, absl::string_view id,
                   absl::Duration timeout);
  std::unique_ptr<oci::OciRuntime> MakeRuntime(
      const oci::RuntimeHandler& handler);

  sys::Sys& sys_;
  sys::OrphanReaper* const reaper_;
  const Options options_;
  oci::ExitWatcher watcher_;
};

// Whether this process has CAP_SYS_RESOURCE (in /proc/self/status), which
// a negative oom_score_adj needs.
absl::StatusOr<bool> HasCapSysResource();

}  // namespace podsandbox::sandbox

#endif  // PODSANDBOX_SANDBOX_PAUSE_TASK_H_
