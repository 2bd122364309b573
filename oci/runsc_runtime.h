// runsc (gVisor): runs the pod in a user-space kernel. What works depends on
// runsc's version and the host; on this project's reference VM (runsc
// 20221219, Linux 6.x) see README:
//  - host-network pods, with a handler whose extra_args hold
//    "--network=host": work;
//  - pods with their own netns need --network=sandbox, and that runsc
//    decides it is in the host's netns whenever
//    /proc/sys/net/core/rmem_default exists, which newer kernels show in
//    every netns: start then always fails. CheckCanRun probes exactly that,
//    once per process, in a throwaway netns, and refuses up front;
//  - user namespaces: runsc cannot join one by path (its Go process is
//    multithreaded), and creating one from mappings fails here with "error
//    converting mounts: operation not permitted", so any pod with a user
//    namespace is refused.
// runsc keeps no state.json; --pid-file gets the sandbox process's pid,
// which exits when the pause does.
//
// Thread-safe (see runtime.h).
#ifndef PODSANDBOX_OCI_RUNSC_RUNTIME_H_
#define PODSANDBOX_OCI_RUNSC_RUNTIME_H_

#include "oci/runtime.h"
#include "oci/runtime_cli.h"
#include "sys/sys.h"

namespace podsandbox::oci {

class RunscRuntime : public OciRuntime {
 public:
  // `handler.type` must be RuntimeType::kRunsc.
  RunscRuntime(sys::Sys& sys, RuntimeHandler handler);

  // oci::OciRuntime
  const RuntimeHandler& handler() const override { return cli_.handler(); }
  absl::Status CheckCanRun(const PodNeeds& pod) override;
  absl::Status CheckSupported(const TaskSpec& spec) override;
  absl::Status Create(const CreateRequest& request) override;
  absl::Status Start(absl::string_view id) override { return cli_.Start(id); }
  absl::StatusOr<RuntimeState> State(absl::string_view id) override {
    return cli_.State(id);
  }
  absl::Status Kill(absl::string_view id, int signal) override {
    return cli_.Kill(id, signal);
  }
  absl::Status Delete(absl::string_view id) override { return cli_.Delete(id); }
  // Unimplemented: runsc runs pauses only here (a container would have to
  // join runsc's own sandbox, and it cannot join a pod's user namespace).
  absl::StatusOr<ExecResult> Exec(const ExecRequest& request) override;
  absl::Status Update(absl::string_view id,
                      const std::string& resources_json) override;

 private:
  enum class Network { kSandbox, kHost, kNone };
  // The --network mode the handler's extra_args select (runsc's default is
  // sandbox).
  Network NetworkMode() const;

  sys::Sys& sys_;
  RuntimeCli cli_;
};

}  // namespace podsandbox::oci

#endif  // PODSANDBOX_OCI_RUNSC_RUNTIME_H_
