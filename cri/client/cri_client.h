// The one CRI v1 client of the project: typed, synchronous calls to a
// RuntimeService and ImageService over a gRPC channel (normally a unix
// socket), each with the client's deadline. podsandboxctl, the cri_load
// bench and the userns harness all speak to runtimes through it, so they
// address endpoints, bound calls and report errors the same way.
//
// Errors: a failed RPC is an absl::Status with the gRPC code mapped one to
// one (cri/grpc_status.h) and the server's message unchanged; callers
// branch on code() (NotFound for an unknown sandbox from PodSandboxStatus,
// Unavailable for an endpoint nobody serves, DeadlineExceeded when the
// deadline passed). The client adds no retries: RunPodSandbox is not
// idempotent, and a caller polling for a daemon decides how long to wait.
//
// Thread-safety: every method may be called from several threads at once
// (gRPC stubs and channels multiplex concurrent calls).
#ifndef PODSANDBOX_CRI_CLIENT_CRI_CLIENT_H_
#define PODSANDBOX_CRI_CLIENT_CRI_CLIENT_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "cri/api.grpc.pb.h"
#include "cri/api.pb.h"
#include "grpcpp/channel.h"

namespace podsandbox::cri::client {

// The endpoint as gRPC names it: a bare socket path ("/run/x.sock", as
// crictl accepts) becomes "unix:///run/x.sock"; anything else is kept.
std::string NormalizeEndpoint(absl::string_view endpoint);

class CriClient {
 public:
  // `endpoint`: "unix:///path" or "/path". Connects lazily: an endpoint
  // nobody serves shows up as Unavailable from the first call. Every call
  // gets `timeout` as its deadline.
  CriClient(absl::string_view endpoint, absl::Duration timeout);

  // Over an existing channel (tests: a server's in-process channel).
  CriClient(std::shared_ptr<grpc::Channel> channel, absl::Duration timeout);

  // ---- RuntimeService

  // Version with the CRI version "v1".
  absl::StatusOr<::runtime::v1::VersionResponse> Version();

  // The runtime's conditions, handlers and, with `verbose`, its info.
  absl::StatusOr<::runtime::v1::StatusResponse> Status(bool verbose);

  // The new sandbox's id. `runtime_handler` "" asks for the default one.
  absl::StatusOr<std::string> RunPodSandbox(
      const ::runtime::v1::PodSandboxConfig& config,
      absl::string_view runtime_handler);

  // Both succeed for an unknown id, as the CRI requires.
  absl::Status StopPodSandbox(absl::string_view pod_sandbox_id);
  absl::Status RemovePodSandbox(absl::string_view pod_sandbox_id);

  // NotFound for an unknown id.
  absl::StatusOr<::runtime::v1::PodSandboxStatusResponse> PodSandboxStatus(
      absl::string_view pod_sandbox_id, bool verbose);

  // The sandboxes the filter selects, in the runtime's order.
  absl::StatusOr<std::vector<::runtime::v1::PodSandbox>> ListPodSandbox(
      const ::runtime::v1::PodSandboxFilter& filter = {});

  // ---- Containers

  // The new container's id.
  absl::StatusOr<std::string> CreateContainer(
      absl::string_view pod_sandbox_id,
      const ::runtime::v1::ContainerConfig& config,
      const ::runtime::v1::PodSandboxConfig& sandbox_config);

  absl::Status StartContainer(absl::string_view container_id);

  // `timeout`: the grace between TERM and KILL (0 kills at once).
  absl::Status StopContainer(absl::string_view container_id,
                             absl::Duration timeout);

  absl::Status RemoveContainer(absl::string_view container_id);

  absl::StatusOr<std::vector<::runtime::v1::Container>> ListContainers(
      const ::runtime::v1::ContainerFilter& filter = {});

  // NotFound for an unknown id.
  absl::StatusOr<::runtime::v1::ContainerStatusResponse> ContainerStatus(
      absl::string_view container_id, bool verbose);

  absl::Status UpdateContainerResources(
      absl::string_view container_id,
      const ::runtime::v1::LinuxContainerResources& resources);

  // Runs `cmd` in the container and waits for it; `timeout` 0 waits for
  // ever. The RPC's deadline is the client's or, when longer, `timeout`
  // plus a margin, so the runtime's timeout is the one that fires.
  absl::StatusOr<::runtime::v1::ExecSyncResponse> ExecSync(
      absl::string_view container_id, const std::vector<std::string>& cmd,
      absl::Duration timeout);

  absl::StatusOr<std::vector<::runtime::v1::ContainerStats>> ListContainerStats(
      const ::runtime::v1::ContainerStatsFilter& filter = {});

  absl::StatusOr<std::vector<::runtime::v1::PodSandboxStats>>
  ListPodSandboxStats(const ::runtime::v1::PodSandboxStatsFilter& filter = {});

  // ---- ImageService

  // The pulled image's reference (its id). `auth` empty: anonymous.
  absl::StatusOr<std::string> PullImage(
      const ::runtime::v1::ImageSpec& image,
      const ::runtime::v1::AuthConfig& auth,
      const ::runtime::v1::PodSandboxConfig& sandbox_config = {});

  absl::StatusOr<std::vector<::runtime::v1::Image>> ListImages(
      const ::runtime::v1::ImageFilter& filter = {});

  // An absent image is not an error: the response's image is unset.
  absl::StatusOr<::runtime::v1::ImageStatusResponse> ImageStatus(
      const ::runtime::v1::ImageSpec& image, bool verbose);

  absl::Status RemoveImage(const ::runtime::v1::ImageSpec& image);

  absl::StatusOr<::runtime::v1::ImageFsInfoResponse> ImageFsInfo();

 private:
  // A context whose deadline is now + timeout_.
  std::unique_ptr<grpc::ClientContext> Context() const;
  // One whose deadline is now + `timeout`.
  static std::unique_ptr<grpc::ClientContext> Context(absl::Duration timeout);

  const absl::Duration timeout_;
  std::unique_ptr<::runtime::v1::RuntimeService::Stub> runtime_;
  std::unique_ptr<::runtime::v1::ImageService::Stub> images_;
};

}  // namespace podsandbox::cri::client

#endif  // PODSANDBOX_CRI_CLIENT_CRI_CLIENT_H_
