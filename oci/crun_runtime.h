// crun: the C runtime, about twice as fast as runc to create. Joins namespaces
// by path like runc; uses the mappings to chown the cgroup; keeps
// <root>/<id>/status instead of state.json. Refuses to run while the hugetlb
// controller sits in cgroup v2 on a hybrid hierarchy (scripts/setup mounts it
// as v1).
//
// Thread-safe (see runtime.h).
#ifndef PODSANDBOX_OCI_CRUN_RUNTIME_H_
#define PODSANDBOX_OCI_CRUN_RUNTIME_H_

#include "oci/runtime.h"
#include "oci/runtime_cli.h"
#include "sys/sys.h"

namespace podsandbox::oci {

class CrunRuntime : public OciRuntime {
 public:
  // `handler.type` must be RuntimeType::kCrun.
  CrunRuntime(sys::Sys& sys, RuntimeHandler handler);

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

 private:
  RuntimeCli cli_;
};

}  // namespace podsandbox::oci

#endif  // PODSANDBOX_OCI_CRUN_RUNTIME_H_
