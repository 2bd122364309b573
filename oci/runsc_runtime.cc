#include "oci/runsc_runtime.h"

#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "sys/status.h"

namespace podsandbox::oci {
namespace {

// runsc decides "root network namespace" by this file's existence.
constexpr char kRootNetnsProbe[] = "/proc/sys/net/core/rmem_default";

// Whether kRootNetnsProbe shows in a network namespace other than the
// host's. A kernel property (newer kernels namespace the file), so one
// throwaway netns tells for all: a thread unshares one (unshare(2) of
// CLONE_NEWNET moves only the calling thread), looks (/proc/sys/net shows
// the looking thread's netns), and ends, and the netns ends with it.
absl::StatusOr<bool> ProbeShowsInEveryNetns(sys::Sys& sys) {
  absl::StatusOr<bool> shows = absl::InternalError("probe did not run");
  std::thread probe([&sys, &shows] {
    if (sys::SysResult r = sys.Unshare(CLONE_NEWNET); !r.ok()) {
      shows = sys::ErrnoError(r.err, "unshare a network namespace to probe %s",
                              kRootNetnsProbe);
    } else if (::access(kRootNetnsProbe, F_OK) == 0) {
      shows = true;
    } else if (errno == ENOENT) {
      shows = false;
    } else {
      shows = sys::ErrnoError(errno, "access %s", kRootNetnsProbe);
    }
  });
  probe.join();
  return shows;
}

ABSL_CONST_INIT absl::Mutex probe_mu(absl::kConstInit);
std::optional<bool> shows_in_every_netns ABSL_GUARDED_BY(probe_mu);

// ProbeShowsInEveryNetns, kept once known (an error is not kept). Two
// first callers may both probe: cheaper than holding the lock across it.
absl::StatusOr<bool> ShowsInEveryNetns(sys::Sys& sys) {
  {
    absl::MutexLock lock(&probe_mu);
    if (shows_in_every_netns.has_value()) return *shows_in_every_netns;
  }
  ASSIGN_OR_RETURN(bool shows, ProbeShowsInEveryNetns(sys));
  absl::MutexLock lock(&probe_mu);
  shows_in_every_netns = shows;
  return shows;
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

absl::Status RunscRuntime::CheckCanRun(const PodNeeds& pod) {
  RETURN_IF_ERROR(CheckHandlerSupports(handler(), pod));
  std::string who =
      absl::StrCat("runtime handler \"", handler().name, "\" (runsc)");
  if (pod.user_namespace) {
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
      if (pod.own_netns) {
        return absl::FailedPreconditionError(absl::StrCat(
            who,
            ": runs with --network=host, so it can only run host-network "
            "pods"));
      }
      return absl::OkStatus();
    case Network::kSandbox:
      break;
  }
  if (!pod.own_netns) {
    return absl::FailedPreconditionError(
        absl::StrCat(who,
                     ": a host-network pod needs a handler with "
                     "--network=host in its extra_args"));
  }
  ASSIGN_OR_RETURN(bool root_like, ShowsInEveryNetns(sys_));
  if (root_like) {
    return absl::FailedPreconditionError(absl::StrCat(
        who, ": this kernel shows ", kRootNetnsProbe,
        " in every network namespace, and runsc releases that test for it "
        "(20221219 among them) refuse to start in any, saying \"cannot run "
        "with network enabled in root network namespace\""));
  }
  return absl::OkStatus();
}

absl::Status RunscRuntime::CheckSupported(const TaskSpec& spec) {
  return CheckCanRun(PodNeedsOf(spec));
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
  call.stdout_fd = request.stdout_fd;
  call.stderr_fd = request.stderr_fd;
  return cli_.Run(call).status();
}

absl::StatusOr<ExecResult> RunscRuntime::Exec(const ExecRequest& request) {
  return absl::UnimplementedError(absl::StrCat(
      "runtime handler ", handler().name, " (runsc): exec ", request.id,
      ": runsc runs pod sandboxes only, not containers"));
}

absl::Status RunscRuntime::Update(absl::string_view id,
                                  const std::string& /*resources_json*/) {
  return absl::UnimplementedError(
      absl::StrCat("runtime handler ", handler().name, " (runsc): update ", id,
                   ": runsc runs pod sandboxes only, not containers"));
}

}  // namespace podsandbox::oci
