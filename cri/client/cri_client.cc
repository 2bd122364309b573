#include "cri/client/cri_client.h"

#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "cri/grpc_status.h"
#include "grpcpp/grpcpp.h"

namespace podsandbox::cri::client {
namespace {

namespace v1 = ::runtime::v1;

// As crictl: a node with thousands of pods or images answers List calls
// past gRPC's 4 MiB default.
constexpr int kMaxReceiveBytes = 16 << 20;

std::shared_ptr<grpc::Channel> UnixChannel(absl::string_view endpoint) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(kMaxReceiveBytes);
  return grpc::CreateCustomChannel(NormalizeEndpoint(endpoint),
                                   grpc::InsecureChannelCredentials(), args);
}

// One unary call: its response, or its status mapped to absl's codes.
template <typename Stub, typename Request, typename Response>
absl::StatusOr<Response> Call(Stub& stub,
                              grpc::Status (Stub::*method)(grpc::ClientContext*,
                                                           const Request&,
                                                           Response*),
                              std::unique_ptr<grpc::ClientContext> context,
                              const Request& request) {
  Response response;
  if (grpc::Status s = (stub.*method)(context.get(), request, &response);
      !s.ok()) {
    return FromGrpcStatus(s);
  }
  return response;
}

}  // namespace

std::string NormalizeEndpoint(absl::string_view endpoint) {
  if (absl::StartsWith(endpoint, "/")) return absl::StrCat("unix://", endpoint);
  return std::string(endpoint);
}

CriClient::CriClient(absl::string_view endpoint, absl::Duration timeout)
    : CriClient(UnixChannel(endpoint), timeout) {}

CriClient::CriClient(std::shared_ptr<grpc::Channel> channel,
                     absl::Duration timeout)
    : timeout_(timeout),
      runtime_(v1::RuntimeService::NewStub(channel)),
      images_(v1::ImageService::NewStub(channel)) {}

std::unique_ptr<grpc::ClientContext> CriClient::Context() const {
  return Context(timeout_);
}

std::unique_ptr<grpc::ClientContext> CriClient::Context(
    absl::Duration timeout) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  return context;
}

absl::StatusOr<v1::VersionResponse> CriClient::Version() {
  v1::VersionRequest request;
  request.set_version("v1");
  return Call(*runtime_, &v1::RuntimeService::Stub::Version, Context(),
              request);
}

absl::StatusOr<v1::StatusResponse> CriClient::Status(bool verbose) {
  v1::StatusRequest request;
  request.set_verbose(verbose);
  return Call(*runtime_, &v1::RuntimeService::Stub::Status, Context(), request);
}

absl::StatusOr<std::string> CriClient::RunPodSandbox(
    const v1::PodSandboxConfig& config, absl::string_view runtime_handler) {
  v1::RunPodSandboxRequest request;
  *request.mutable_config() = config;
  request.set_runtime_handler(std::string(runtime_handler));
  absl::StatusOr<v1::RunPodSandboxResponse> response = Call(
      *runtime_, &v1::RuntimeService::Stub::RunPodSandbox, Context(), request);
  if (!response.ok()) return response.status();
  return response->pod_sandbox_id();
}

absl::Status CriClient::StopPodSandbox(absl::string_view pod_sandbox_id) {
  v1::StopPodSandboxRequest request;
  request.set_pod_sandbox_id(std::string(pod_sandbox_id));
  return Call(*runtime_, &v1::RuntimeService::Stub::StopPodSandbox, Context(),
              request)
      .status();
}

absl::Status CriClient::RemovePodSandbox(absl::string_view pod_sandbox_id) {
  v1::RemovePodSandboxRequest request;
  request.set_pod_sandbox_id(std::string(pod_sandbox_id));
  return Call(*runtime_, &v1::RuntimeService::Stub::RemovePodSandbox, Context(),
              request)
      .status();
}

absl::StatusOr<v1::PodSandboxStatusResponse> CriClient::PodSandboxStatus(
    absl::string_view pod_sandbox_id, bool verbose) {
  v1::PodSandboxStatusRequest request;
  request.set_pod_sandbox_id(std::string(pod_sandbox_id));
  request.set_verbose(verbose);
  return Call(*runtime_, &v1::RuntimeService::Stub::PodSandboxStatus, Context(),
              request);
}

absl::StatusOr<std::vector<v1::PodSandbox>> CriClient::ListPodSandbox(
    const v1::PodSandboxFilter& filter) {
  v1::ListPodSandboxRequest request;
  *request.mutable_filter() = filter;
  absl::StatusOr<v1::ListPodSandboxResponse> response = Call(
      *runtime_, &v1::RuntimeService::Stub::ListPodSandbox, Context(), request);
  if (!response.ok()) return response.status();
  return std::vector<v1::PodSandbox>(response->items().begin(),
                                     response->items().end());
}

absl::StatusOr<std::string> CriClient::CreateContainer(
    absl::string_view pod_sandbox_id, const v1::ContainerConfig& config,
    const v1::PodSandboxConfig& sandbox_config) {
  v1::CreateContainerRequest request;
  request.set_pod_sandbox_id(std::string(pod_sandbox_id));
  *request.mutable_config() = config;
  *request.mutable_sandbox_config() = sandbox_config;
  absl::StatusOr<v1::CreateContainerResponse> response =
      Call(*runtime_, &v1::RuntimeService::Stub::CreateContainer, Context(),
           request);
  if (!response.ok()) return response.status();
  return response->container_id();
}

absl::Status CriClient::StartContainer(absl::string_view container_id) {
  v1::StartContainerRequest request;
  request.set_container_id(std::string(container_id));
  return Call(*runtime_, &v1::RuntimeService::Stub::StartContainer, Context(),
              request)
      .status();
}

absl::Status CriClient::StopContainer(absl::string_view container_id,
                                      absl::Duration timeout) {
  v1::StopContainerRequest request;
  request.set_container_id(std::string(container_id));
  request.set_timeout(absl::ToInt64Seconds(timeout));
  // The runtime waits up to `timeout` before its KILL.
  return Call(*runtime_, &v1::RuntimeService::Stub::StopContainer,
              Context(std::max(timeout_, timeout + absl::Seconds(30))), request)
      .status();
}

absl::Status CriClient::RemoveContainer(absl::string_view container_id) {
  v1::RemoveContainerRequest request;
  request.set_container_id(std::string(container_id));
  return Call(*runtime_, &v1::RuntimeService::Stub::RemoveContainer, Context(),
              request)
      .status();
}

absl::StatusOr<std::vector<v1::Container>> CriClient::ListContainers(
    const v1::ContainerFilter& filter) {
  v1::ListContainersRequest request;
  *request.mutable_filter() = filter;
  absl::StatusOr<v1::ListContainersResponse> response = Call(
      *runtime_, &v1::RuntimeService::Stub::ListContainers, Context(), request);
  if (!response.ok()) return response.status();
  return std::vector<v1::Container>(response->containers().begin(),
                                    response->containers().end());
}

absl::StatusOr<v1::ContainerStatusResponse> CriClient::ContainerStatus(
    absl::string_view container_id, bool verbose) {
  v1::ContainerStatusRequest request;
  request.set_container_id(std::string(container_id));
  request.set_verbose(verbose);
  return Call(*runtime_, &v1::RuntimeService::Stub::ContainerStatus, Context(),
              request);
}

absl::Status CriClient::UpdateContainerResources(
    absl::string_view container_id,
    const v1::LinuxContainerResources& resources) {
  v1::UpdateContainerResourcesRequest request;
  request.set_container_id(std::string(container_id));
  *request.mutable_linux() = resources;
  return Call(*runtime_, &v1::RuntimeService::Stub::UpdateContainerResources,
              Context(), request)
      .status();
}

absl::StatusOr<v1::ExecSyncResponse> CriClient::ExecSync(
    absl::string_view container_id, const std::vector<std::string>& cmd,
    absl::Duration timeout) {
  v1::ExecSyncRequest request;
  request.set_container_id(std::string(container_id));
  for (const std::string& arg : cmd) request.add_cmd(arg);
  request.set_timeout(absl::ToInt64Seconds(timeout));
  return Call(*runtime_, &v1::RuntimeService::Stub::ExecSync,
              Context(std::max(timeout_, timeout + absl::Seconds(30))),
              request);
}

absl::StatusOr<std::vector<v1::ContainerStats>> CriClient::ListContainerStats(
    const v1::ContainerStatsFilter& filter) {
  v1::ListContainerStatsRequest request;
  *request.mutable_filter() = filter;
  absl::StatusOr<v1::ListContainerStatsResponse> response =
      Call(*runtime_, &v1::RuntimeService::Stub::ListContainerStats, Context(),
           request);
  if (!response.ok()) return response.status();
  return std::vector<v1::ContainerStats>(response->stats().begin(),
                                         response->stats().end());
}

absl::StatusOr<std::vector<v1::PodSandboxStats>> CriClient::ListPodSandboxStats(
    const v1::PodSandboxStatsFilter& filter) {
  v1::ListPodSandboxStatsRequest request;
  *request.mutable_filter() = filter;
  absl::StatusOr<v1::ListPodSandboxStatsResponse> response =
      Call(*runtime_, &v1::RuntimeService::Stub::ListPodSandboxStats, Context(),
           request);
  if (!response.ok()) return response.status();
  return std::vector<v1::PodSandboxStats>(response->stats().begin(),
                                          response->stats().end());
}

absl::StatusOr<std::string> CriClient::PullImage(
    const v1::ImageSpec& image, const v1::AuthConfig& auth,
    const v1::PodSandboxConfig& sandbox_config) {
  v1::PullImageRequest request;
  *request.mutable_image() = image;
  *request.mutable_auth() = auth;
  *request.mutable_sandbox_config() = sandbox_config;
  absl::StatusOr<v1::PullImageResponse> response =
      Call(*images_, &v1::ImageService::Stub::PullImage, Context(), request);
  if (!response.ok()) return response.status();
  return response->image_ref();
}

absl::StatusOr<std::vector<v1::Image>> CriClient::ListImages(
    const v1::ImageFilter& filter) {
  v1::ListImagesRequest request;
  *request.mutable_filter() = filter;
  absl::StatusOr<v1::ListImagesResponse> response =
      Call(*images_, &v1::ImageService::Stub::ListImages, Context(), request);
  if (!response.ok()) return response.status();
  return std::vector<v1::Image>(response->images().begin(),
                                response->images().end());
}

absl::StatusOr<v1::ImageStatusResponse> CriClient::ImageStatus(
    const v1::ImageSpec& image, bool verbose) {
  v1::ImageStatusRequest request;
  *request.mutable_image() = image;
  request.set_verbose(verbose);
  return Call(*images_, &v1::ImageService::Stub::ImageStatus, Context(),
              request);
}

absl::Status CriClient::RemoveImage(const v1::ImageSpec& image) {
  v1::RemoveImageRequest request;
  *request.mutable_image() = image;
  return Call(*images_, &v1::ImageService::Stub::RemoveImage, Context(),
              request)
      .status();
}

absl::StatusOr<v1::ImageFsInfoResponse> CriClient::ImageFsInfo() {
  return Call(*images_, &v1::ImageService::Stub::ImageFsInfo, Context(),
              v1::ImageFsInfoRequest());
}

}  // namespace podsandbox::cri::client
