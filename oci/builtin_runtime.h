// The `builtin` runtime type: podsandboxd starts the pause itself
// (oci/builtin_launcher.h) behind the same OciRuntime interface the pause
// task drives runc, crun and runsc through, so Run, Stop, Remove, Status,
// List and restart recovery use it unchanged.
//
// What each command does:
//  - Create reads the bundle's config.json (the same one runc gets); for a
//    user namespace without a path (host network: the controller pins
//    none) it makes one as runc does, by a helper child cloned into it
//    whose maps we write, which holds it until the pause has joined; makes
//    the sandbox's cgroup <hierarchy><cgroupsPath> in every hierarchy of
//    the host's layout (sys/cgroup_layout.h; v1 cpuset levels get their
//    parent's cpus and mems, v1 devices denies everything, as runc's
//    cgroupfs driver does), launches the pause into it and writes its pid
//    to the pid file. The pause runs from here on: there is no separate
//    start, because nothing waits for one (the network the pause sits in
//    needs no exec to take effect; the sysctls are written at create, as
//    with runc, hence NetnsReadyBy::kCreate).
//  - Start checks that the container exists.
//  - Kill signals the pause through a pidfd, after checking its start time.
//  - Delete kills what is left in the cgroup (the pause, and with it its
//    PID namespace), removes the cgroup directories and the state file.
//
// State: <handler.root>/<id>.json (tmpfs) holds the pause's pid and start
// time and the cgroup directories. Kill, State and Delete get only the id,
// and must work after a daemon restart and for an orphan with no sandbox
// record; the file is written before the first cgroup directory exists, so
// Delete finds everything Create may have made.
//
// Errors: as oci/runtime.h says. Thread-safe; callers serialise calls for
// one id.
#ifndef PODSANDBOX_OCI_BUILTIN_RUNTIME_H_
#define PODSANDBOX_OCI_BUILTIN_RUNTIME_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "oci/runtime.h"
#include "oci/runtime_handler.h"
#include "oci/task_spec.h"
#include "sys/sys.h"

namespace podsandbox::oci {

class BuiltinRuntime : public OciRuntime {
 public:
  // `sys` and `handler` outlive this.
  BuiltinRuntime(sys::Sys& sys, const RuntimeHandler& handler);

  // oci::OciRuntime
  const RuntimeHandler& handler() const override { return handler_; }
  absl::Status CheckSupported(const TaskSpec& spec) override;
  // Atomic: on failure no cgroup directory, state file or process is left.
  // AlreadyExists when `id` has state.
  absl::Status Create(const CreateRequest& request) override;
  absl::Status Start(absl::string_view id) override;
  absl::StatusOr<RuntimeState> State(absl::string_view id) override;
  // FailedPrecondition when the pause is not running.
  absl::Status Kill(absl::string_view id, int signal) override;
  absl::Status Delete(absl::string_view id) override;
  // Unimplemented: the builtin launcher runs a pause only, which has no
  // streams, no extra process and fixed resources.
  absl::StatusOr<ExecResult> Exec(const ExecRequest& request) override;
  absl::Status Update(absl::string_view id,
                      const std::string& resources_json) override;

 private:
  std::string StatePath(absl::string_view id) const;

  sys::Sys& sys_;
  const RuntimeHandler& handler_;
};

}  // namespace podsandbox::oci

#endif  // PODSANDBOX_OCI_BUILTIN_RUNTIME_H_
