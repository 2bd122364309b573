#include "harness/cri_client.h"

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "nlohmann/json.hpp"

namespace podsandbox::harness {
namespace {

namespace v1 = ::runtime::v1;
using json = nlohmann::json;

absl::Status FromGrpc(const grpc::Status& s) {
  // grpc::StatusCode and absl::StatusCode share their numbering.
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()),
                      s.error_message());
}

std::string NetnsFromRuntimeSpec(const json& info) {
  const json* spec = &info;
  for (const char* key : {"runtimeSpec", "linux"}) {
    if (!spec->is_object() || !spec->contains(key)) return "";
    spec = &(*spec)[key];
  }
  if (!spec->is_object() || !spec->contains("namespaces")) return "";
  const json& namespaces = (*spec)["namespaces"];
  if (!namespaces.is_array()) return "";
  for (const json& ns : namespaces) {
    if (ns.is_object() && ns.value("type", "") == "network") {
      return ns.value("path", "");
    }
  }
  return "";
}

}  // namespace

absl::StatusOr<PodInfo> ParsePodInfo(absl::string_view info_json) {
  const json info = json::parse(info_json, nullptr, /*allow_exceptions=*/false);
  if (info.is_discarded() || !info.is_object()) {
    return absl::InvalidArgumentError("verbose info: not a JSON object");
  }
  PodInfo out;
  if (auto it = info.find("pid"); it != info.end() && it->is_number_integer()) {
    if (const auto pid = it->get<int64_t>(); pid > 0) {
      out.pid = static_cast<pid_t>(pid);
    }
  }
  if (auto it = info.find("netNamespacePath");
      it != info.end() && it->is_string()) {
    out.netns_path = it->get<std::string>();
  }
  if (out.netns_path.empty()) out.netns_path = NetnsFromRuntimeSpec(info);
  if (auto it = info.find("userNamespace");
      it != info.end() && it->is_object()) {
    out.userns_path = it->value("path", "");
  }
  if (auto it = info.find("runtimeType"); it != info.end() && it->is_string()) {
    out.runtime_type = it->get<std::string>();
  }
  return out;
}

CriClient::CriClient(const std::string& endpoint, absl::Duration timeout)
    : timeout_(timeout),
      stub_(v1::RuntimeService::NewStub(
          grpc::CreateChannel(endpoint, grpc::InsecureChannelCredentials()))) {}

std::unique_ptr<grpc::ClientContext> CriClient::Context() const {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
  return context;
}

absl::StatusOr<std::string> CriClient::Version() {
  v1::VersionRequest request;
  request.set_version("v1");
  v1::VersionResponse response;
  if (grpc::Status s = stub_->Version(Context().get(), request, &response);
      !s.ok()) {
    return FromGrpc(s);
  }
  return absl::StrCat(response.runtime_name(), " ", response.runtime_version());
}

absl::StatusOr<std::string> CriClient::RunPodSandbox(
    const v1::PodSandboxConfig& config, const std::string& runtime_handler) {
  v1::RunPodSandboxRequest request;
  *request.mutable_config() = config;
  request.set_runtime_handler(runtime_handler);
  v1::RunPodSandboxResponse response;
  if (grpc::Status s =
          stub_->RunPodSandbox(Context().get(), request, &response);
      !s.ok()) {
    return FromGrpc(s);
  }
  return response.pod_sandbox_id();
}

absl::Status CriClient::StopPodSandbox(const std::string& id) {
  v1::StopPodSandboxRequest request;
  request.set_pod_sandbox_id(id);
  v1::StopPodSandboxResponse response;
  return FromGrpc(stub_->StopPodSandbox(Context().get(), request, &response));
}

absl::Status CriClient::RemovePodSandbox(const std::string& id) {
  v1::RemovePodSandboxRequest request;
  request.set_pod_sandbox_id(id);
  v1::RemovePodSandboxResponse response;
  return FromGrpc(stub_->RemovePodSandbox(Context().get(), request, &response));
}

absl::StatusOr<v1::PodSandboxStatusResponse> CriClient::PodSandboxStatus(
    const std::string& id) {
  v1::PodSandboxStatusRequest request;
  request.set_pod_sandbox_id(id);
  request.set_verbose(true);
  v1::PodSandboxStatusResponse response;
  if (grpc::Status s =
          stub_->PodSandboxStatus(Context().get(), request, &response);
      !s.ok()) {
    return FromGrpc(s);
  }
  return response;
}

absl::StatusOr<PodInfo> CriClient::PodSandboxInfo(const std::string& id) {
  absl::StatusOr<v1::PodSandboxStatusResponse> status = PodSandboxStatus(id);
  if (!status.ok()) return status.status();
  auto it = status->info().find("info");
  if (it == status->info().end()) {
    return absl::FailedPreconditionError(
        "PodSandboxStatus verbose: no \"info\" key");
  }
  absl::StatusOr<PodInfo> info = ParsePodInfo(it->second);
  if (!info.ok()) return info.status();
  const v1::PodSandboxNetworkStatus& network = status->status().network();
  if (!network.ip().empty()) info->ips.push_back(network.ip());
  for (const v1::PodIP& ip : network.additional_ips()) {
    if (!ip.ip().empty()) info->ips.push_back(ip.ip());
  }
  return info;
}

}  // namespace podsandbox::harness
