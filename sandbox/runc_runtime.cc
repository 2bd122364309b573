#include "sandbox/runc_runtime.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "sys/status.h"

namespace podsandbox::sandbox {

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

absl::Status RuncRuntime::Start(absl::string_view id) {
  return cli_.Run({"start", std::string(id), {}, {"start", std::string(id)}})
      .status();
}

absl::StatusOr<RuntimeState> RuncRuntime::State(absl::string_view id) {
  ASSIGN_OR_RETURN(
      std::string out,
      cli_.Run({"state", std::string(id), {}, {"state", std::string(id)}}));
  return RuntimeCli::ParseState(out);
}

absl::Status RuncRuntime::Kill(absl::string_view id, int signal) {
  return cli_
      .Run({"kill",
            std::string(id),
            {},
            {"kill", std::string(id), absl::StrCat(signal)}})
      .status();
}

absl::Status RuncRuntime::Delete(absl::string_view id) {
  return cli_
      .Run({"delete",
            std::string(id),
            {},
            {"delete", "--force", std::string(id)}})
      .status();
}

}  // namespace podsandbox::sandbox
