#include "oci/crun_runtime.h"

#include <utility>

#include "sys/status.h"

namespace podsandbox::oci {

CrunRuntime::CrunRuntime(sys::Sys& sys, RuntimeHandler handler)
    // crun reports a missing container as its missing status file:
    // "error opening file `<root>/<id>/status`: No such file or directory".
    : cli_(sys, std::move(handler), {"/status`: No such file or directory"}) {}

absl::Status CrunRuntime::CheckSupported(const TaskSpec& spec) {
  return CheckHandlerSupports(handler(), spec);
}

absl::Status CrunRuntime::Create(const CreateRequest& request) {
  RuntimeCall call{"create", request.id};
  // crun writes its error both to stderr and, as JSON, to --log.
  if (!request.runtime_log_file.empty()) {
    call.global_args = {"--log", request.runtime_log_file, "--log-format",
                        "json"};
    call.log_file = request.runtime_log_file;
  }
  call.args = {"create", "--bundle", request.bundle, "--pid-file",
               request.pid_file};
  call.args.push_back(request.id);
  call.output_file = request.log_file;
  return cli_.Run(call).status();
}

}  // namespace podsandbox::oci
