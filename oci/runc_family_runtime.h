// runc and crun: one driver, because they take the same command line and
// differ only in the details a RuncFamilyTraits names.
//  - runc, the reference runtime: joins the user namespace by path and
//    checks that config.json's mappings match that namespace's; writes
//    <root>/<id>/state.json; takes the runc-only handler options; logs
//    create's real failure (nsexec's) only to --log.
//  - crun, the C runtime, about twice as fast as runc to create: joins
//    namespaces by path like runc; uses the mappings to chown the cgroup;
//    keeps <root>/<id>/status instead of state.json; writes its errors both
//    to stderr and to --log. It refuses to run while the hugetlb controller
//    sits in cgroup v2 on a hybrid hierarchy (scripts/setup mounts it as v1).
// Both run create and exec with a JSON --log whose messages go into the
// error.
//
// Thread-safe (see runtime.h).
#ifndef PODSANDBOX_OCI_RUNC_FAMILY_RUNTIME_H_
#define PODSANDBOX_OCI_RUNC_FAMILY_RUNTIME_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "oci/runtime.h"
#include "oci/runtime_cli.h"
#include "oci/runtime_handler.h"
#include "oci/runtime_type.h"
#include "oci/task_spec.h"
#include "sys/sys.h"

namespace podsandbox::oci {

// Where runc and crun differ on the command line.
struct RuncFamilyTraits {
  // Substrings of the runtime's messages that mean "no such container".
  std::vector<std::string> not_found_markers;
  // Takes --no-pivot and --no-new-keyring at create: the handler options
  // of the runc_options capability (HandlerRegistry refuses them for the
  // others).
  bool create_takes_runc_options = false;
};

// The traits of `type`, which must be kRunc or kCrun.
const RuncFamilyTraits& RuncFamilyTraitsOf(RuntimeType type);

class RuncFamilyRuntime : public OciRuntime {
 public:
  // `handler.type` must be kRunc or kCrun; the traits follow from it.
  RuncFamilyRuntime(sys::Sys& sys, RuntimeHandler handler);

  // oci::OciRuntime
  const RuntimeHandler& handler() const override { return cli_.handler(); }
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
  absl::StatusOr<ExecResult> Exec(const ExecRequest& request) override;
  absl::Status Update(absl::string_view id,
                      const std::string& resources_json) override;

 private:
  // SIGKILLs the process whose pid `pid_file` holds, if it still runs, and
  // reaps it when it is this process's child (adopted as a subreaper).
  void KillExecProcess(const std::string& pid_file);

  sys::Sys& sys_;
  const RuncFamilyTraits& traits_;
  RuntimeCli cli_;
};

}  // namespace podsandbox::oci

#endif  // PODSANDBOX_OCI_RUNC_FAMILY_RUNTIME_H_
