#include "oci/runc_runtime.h"

#include <utility>

#include "sys/status.h"

namespace podsandbox::oci {

RuncRuntime::RuncRuntime(sys::Sys& sys, RuntimeHandler handler)
    : cli_(sys, std::move(handler), {"container does not exist"}) {}

absl::Status RuncRuntime::CheckSupported(const TaskSpec& spec) {
  return CheckHandlerSupports(handler(), spec);
}

absl::Status RuncRuntime::Create(const CreateRequest& request) {
  RuntimeCall call{"create", request.id};
  if (!request.runtime_log_file.empty()) {
    call.global_args = {"--log", request.runtime_log_file, "--log-format",
                        "json"};
    call.log_file = request.runtime_log_file;
  }
  call.args = {"create", "--bundle", request.bundle, "--pid-file",
               request.pid_file};
  if (handler().no_pivot_root) call.args.push_back("--no-pivot");
  if (handler().no_new_keyring) call.args.push_back("--no-new-keyring");
  call.args.push_back(request.id);
  call.output_file = request.log_file;
  return cli_.Run(call).status();
}

}  // namespace podsandbox::oci
