#include "oci/runsc_runtime.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "netns/in_netns.h"
#include "netns/namespace_file.h"
#include "sys/status.h"

namespace podsandbox::oci {
namespace {

// runsc decides "root network namespace" by this file's existence.
constexpr char kRootNetnsProbe[] = "/proc/sys/net/core/rmem_default";

// Whether runsc would take the netns at `netns_path` for the host's.
absl::StatusOr<bool> RunscSeesRootNetns(sys::Sys& sys,
                                        absl::string_view netns_path) {
  ASSIGN_OR_RETURN(sys::UniqueFd netns, netns::OpenNamespace(sys, netns_path));
  bool visible = false;
  // /proc/sys/net shows the netns of the thread that looks.
  RETURN_IF_ERROR(netns::RunInNetns(sys, netns.get(), [&]() -> absl::Status {
    if (::access(kRootNetnsProbe, F_OK) == 0) {
      visible = true;
    } else if (errno != ENOENT) {
      return sys::ErrnoError(errno, "access %s", kRootNetnsProbe);
    }
    return absl::OkStatus();
  }));
  return visible;
}

}  // namespace

RunscRuntime::RunscRuntime(sys::Sys& sys, RuntimeHandler handler)
    : sys_(sys),
      cli_(sys, std::move(handler),
           {"file does not exist", "container does not exist"}) {}

RunscRuntime::Network RunscRuntime::NetworkMode() const {
  Network mode = Network::kSandbox;
  for (const std::string& arg : handler().extra_args) {
    if (arg == "--network=host") mode = Network::kHost;
    if (arg == "--network=none") mode = Network::kNone;
    if (arg == "--network=sandbox") mode = Network::kSandbox;
  }
  return mode;
}

absl::Status RunscRuntime::CheckSupported(const TaskSpec& spec) {
  RETURN_IF_ERROR(CheckHandlerSupports(handler(), spec));
  std::string who =
      absl::StrCat("runtime handler \"", handler().name, "\" (runsc)");
  if (spec.id_mappings.has_value()) {
    return absl::FailedPreconditionError(absl::StrCat(
        who,
        ": pods with a user namespace are not supported (runsc cannot join "
        "one, and creating one from mappings fails on this host)"));
  }
  switch (NetworkMode()) {
    case Network::kNone:
      return absl::FailedPreconditionError(absl::StrCat(
          who, ": runs with --network=none, which gives a pod no network"));
    case Network::kHost:
      if (!spec.netns_path.empty()) {
        return absl::FailedPreconditionError(absl::StrCat(
            who,
            ": runs with --network=host, so it can only run host-network "
            "pods"));
      }
      return absl::OkStatus();
    case Network::kSandbox:
      break;
  }
  if (spec.netns_path.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat(who,
                     ": a host-network pod needs a handler with "
                     "--network=host in its extra_args"));
  }
  ASSIGN_OR_RETURN(bool root_like, RunscSeesRootNetns(sys_, spec.netns_path));
  if (root_like) {
    return absl::FailedPreconditionError(absl::StrCat(
        who, ": this kernel shows ", kRootNetnsProbe,
        " in every network namespace, and runsc releases that test for it "
        "(20221219 among them) refuse to start in any, saying \"cannot run "
        "with network enabled in root network namespace\""));
  }
  return absl::OkStatus();
}

absl::Status RunscRuntime::Create(const CreateRequest& request) {
  // With --log-format json, runsc's --log also gets its errors as JSON
  // ({"msg":...,"level":"error"}), like runc's; without --debug nothing
  // else goes there.
  RuntimeCall call{"create", request.id};
  if (!request.runtime_log_file.empty()) {
    call.global_args = {"--log", request.runtime_log_file, "--log-format",
                        "json"};
    call.log_file = request.runtime_log_file;
  }
  call.args = {"create",     "--bundle",       request.bundle,
               "--pid-file", request.pid_file, request.id};
  call.output_file = request.log_file;
  return cli_.Run(call).status();
}

}  // namespace podsandbox::oci
