#include "oci/runc_family_runtime.h"

#include <utility>

#include "sys/log.h"

namespace podsandbox::oci {

const RuncFamilyTraits& RuncFamilyTraitsOf(RuntimeType type) {
  static const RuncFamilyTraits kRunc{{"container does not exist"},
                                      /*create_takes_runc_options=*/true};
  // crun reports a missing container as its missing status file:
  // "error opening file `<root>/<id>/status`: No such file or directory".
  static const RuncFamilyTraits kCrun{{"/status`: No such file or directory"},
                                      /*create_takes_runc_options=*/false};
  PSB_CHECK(type == RuntimeType::kRunc || type == RuntimeType::kCrun);
  return type == RuntimeType::kCrun ? kCrun : kRunc;
}

RuncFamilyRuntime::RuncFamilyRuntime(sys::Sys& sys, RuntimeHandler handler)
    : traits_(RuncFamilyTraitsOf(handler.type)),
      cli_(sys, std::move(handler), traits_.not_found_markers) {}

absl::Status RuncFamilyRuntime::CheckSupported(const TaskSpec& spec) {
  return CheckCanRun(PodNeedsOf(spec));
}

absl::Status RuncFamilyRuntime::Create(const CreateRequest& request) {
  RuntimeCall call{"create", request.id};
  // runc logs create's real failure (nsexec's) only to --log; crun writes
  // it to stderr too. Either way the JSON log is what the error quotes.
  if (!request.runtime_log_file.empty()) {
    call.global_args = {"--log", request.runtime_log_file, "--log-format",
                        "json"};
    call.log_file = request.runtime_log_file;
  }
  call.args = {"create", "--bundle", request.bundle, "--pid-file",
               request.pid_file};
  if (traits_.create_takes_runc_options) {
    if (handler().no_pivot_root) call.args.push_back("--no-pivot");
    if (handler().no_new_keyring) call.args.push_back("--no-new-keyring");
  }
  call.args.push_back(request.id);
  call.output_file = request.log_file;
  return cli_.Run(call).status();
}

}  // namespace podsandbox::oci
