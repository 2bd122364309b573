// The harness's view of a CRI endpoint: the project's one CRI client
// (cri/client/cri_client.h) plus what the harness reads from a sandbox's
// verbose status, the "info" JSON that containerd and podsandboxd both
// return.
//
// Errors are the client's: absl::Status with the gRPC code and the
// runtime's message, so a check can print what the runtime said when it
// refused a request.
//
// Thread-safety: the client may be used from several threads at once;
// ParsePodInfo is a pure function.
#ifndef PODSANDBOX_HARNESS_CRI_CLIENT_H_
#define PODSANDBOX_HARNESS_CRI_CLIENT_H_

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "cri/client/cri_client.h"

namespace podsandbox::harness {

// The harness drives endpoints through the shared client; the name stays
// so the checks read as before.
using CriClient = ::podsandbox::cri::client::CriClient;

// What a runtime reported about a sandbox's processes and namespaces in its
// verbose status. Fields the runtime did not report stay empty.
struct PodInfo {
  std::optional<pid_t> pid;  // the pause (sandbox) process, host pid
  std::string netns_path;    // "netNamespacePath", else the runtime spec's
  std::string userns_path;   // "userNamespace.path" (podsandboxd only)
  std::string runtime_type;  // "runtimeType", e.g. io.containerd.runc.v2
  // "none" for a pod without a pause (podsandboxd's infra = "none"): no
  // pid, and its UTS and IPC namespaces pinned beside net and user.
  std::string infra;     // "infra"
  std::string uts_path;  // "utsNamespacePath"
  std::string ipc_path;  // "ipcNamespacePath"
  // The pod's IPs from the status itself (network.ip, additional_ips), not
  // from "info": filled by PodSandboxInfo, not ParsePodInfo.
  std::vector<std::string> ips;
};

// Parses the "info" value of a verbose PodSandboxStatus. "pid" 0 (a
// stopped sandbox) is reported as no pid. Where "netNamespacePath" is
// absent (containerd 1.6), the network namespace path of the runtime spec
// ("runtimeSpec.linux.namespaces[type=network].path") is used.
// InvalidArgument when `info_json` is not a JSON object.
absl::StatusOr<PodInfo> ParsePodInfo(absl::string_view info_json);

// The verbose status's "info", parsed, with the status's pod IPs. The
// client's error (NotFound for an unknown id, as the runtime says);
// FailedPrecondition when the runtime returned no "info" key.
absl::StatusOr<PodInfo> PodSandboxInfo(CriClient& client,
                                       absl::string_view pod_sandbox_id);

}  // namespace podsandbox::harness

#endif  // PODSANDBOX_HARNESS_CRI_CLIENT_H_
