// runc: the reference runtime. It joins the user namespace by path and checks
// that config.json's mappings match that namespace's; writes
// <root>/<id>/state.json; takes the runc-only handler options; logs create's
// real failure (nsexec's) only to --log, so create runs with a JSON log whose
// messages go into the error.
//
// Thread-safe (see runtime.h).
#ifndef PODSANDBOX_OCI_RUNC_RUNTIME_H_
#define PODSANDBOX_OCI_RUNC_RUNTIME_H_

#include "oci/runtime.h"
#include "oci/runtime_cli.h"
#include "sys/sys.h"

namespace podsandbox::oci {

class RuncRuntime : public OciRuntime {
 public:
  // `handler.type` must be RuntimeType::kRunc.
  RuncRuntime(sys::Sys& sys, RuntimeHandler handler);

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

#endif  // PODSANDBOX_OCI_RUNC_RUNTIME_H_
