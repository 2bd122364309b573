// A small synchronous CRI v1 RuntimeService client for the harness, over a
// unix socket, plus the parser for the PodSandboxStatus verbose "info" JSON
// that containerd and podsandboxd both return.
//
// gRPC errors become absl::Status with the same code (the numbering of the
// two enums is identical) and the server's message, so a check can print
// what the runtime said when it refused a request.
//
// Thread-safety: a CriClient may be used from several threads at once (gRPC
// stubs are thread-safe); ParsePodInfo is a pure function.
#ifndef PODSANDBOX_HARNESS_CRI_CLIENT_H_
#define PODSANDBOX_HARNESS_CRI_CLIENT_H_

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "cri/api.grpc.pb.h"
#include "cri/api.pb.h"

namespace podsandbox::harness {

// What a runtime reported about a sandbox's processes and namespaces in its
// verbose status. Fields the runtime did not report stay empty.
struct PodInfo {
  std::optional<pid_t> pid;  // the pause (sandbox) process, host pid
  std::string netns_path;    // "netNamespacePath", else the runtime spec's
  std::string userns_path;   // "userNamespace.path" (podsandboxd only)
  std::string runtime_type;  // "runtimeType", e.g. io.containerd.runc.v2
  // The pod's IPs from the status itself (network.ip, additional_ips), not
  // from "info": filled by CriClient::PodSandboxInfo, not ParsePodInfo.
  std::vector<std::string> ips;
};

// Parses the "info" value of a verbose PodSandboxStatus. "pid" 0 (a
// stopped sandbox) is reported as no pid. Where "netNamespacePath" is
// absent (containerd 1.6), the network namespace path of the runtime spec
// ("runtimeSpec.linux.namespaces[type=network].path") is used.
// InvalidArgument when `info_json` is not a JSON object.
absl::StatusOr<PodInfo> ParsePodInfo(absl::string_view info_json);

class CriClient {
 public:
  // `endpoint` as gRPC names it: "unix:///run/containerd/containerd.sock".
  // Connects lazily: an unreachable endpoint shows up as Unavailable from
  // the first call. Every call gets `timeout` as its deadline.
  CriClient(const std::string& endpoint, absl::Duration timeout);

  // The runtime's name and version, "containerd 1.6.20".
  absl::StatusOr<std::string> Version();

  // The sandbox id. The runtime's error as it returned it.
  absl::StatusOr<std::string> RunPodSandbox(
      const runtime::v1::PodSandboxConfig& config,
      const std::string& runtime_handler);
  absl::Status StopPodSandbox(const std::string& id);
  absl::Status RemovePodSandbox(const std::string& id);

  // The verbose status. NotFound for an unknown id (as the runtime says).
  absl::StatusOr<runtime::v1::PodSandboxStatusResponse> PodSandboxStatus(
      const std::string& id);

  // The verbose status's "info", parsed, with the status's pod IPs.
  // FailedPrecondition when the runtime returned no "info" key.
  absl::StatusOr<PodInfo> PodSandboxInfo(const std::string& id);

 private:
  std::unique_ptr<grpc::ClientContext> Context() const;

  absl::Duration timeout_;
  std::unique_ptr<runtime::v1::RuntimeService::Stub> stub_;
};

}  // namespace podsandbox::harness

#endif  // PODSANDBOX_HARNESS_CRI_CLIENT_H_
