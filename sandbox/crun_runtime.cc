#include "sandbox/crun_runtime.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "sys/status.h"

namespace podsandbox::sandbox {

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

absl::Status CrunRuntime::Start(absl::string_view id) {
  return cli_.Run({"start", std::string(id), {}, {"start", std::string(id)}})
      .status();
}

absl::StatusOr<RuntimeState> CrunRuntime::State(absl::string_view id) {
  ASSIGN_OR_RETURN(
      std::string out,
      cli_.Run({"state", std::string(id), {}, {"state", std::string(id)}}));
  return RuntimeCli::ParseState(out);
}

absl::Status CrunRuntime::Kill(absl::string_view id, int signal) {
  return cli_
      .Run({"kill",
            std::string(id),
            {},
            {"kill", std::string(id), absl::StrCat(signal)}})
      .status();
}

absl::Status CrunRuntime::Delete(absl::string_view id) {
  return cli_
      .Run({"delete",
            std::string(id),
            {},
            {"delete", "--force", std::string(id)}})
      .status();
}

}  // namespace podsandbox::sandbox
