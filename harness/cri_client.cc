#include "harness/cri_client.h"

#include <string>
#include <utility>

#include "cri/api.pb.h"
#include "nlohmann/json.hpp"

namespace podsandbox::harness {
namespace {

namespace v1 = ::runtime::v1;
using json = nlohmann::json;

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
  for (auto [key, field] : {std::pair{"runtimeType", &out.runtime_type},
                            {"infra", &out.infra},
                            {"utsNamespacePath", &out.uts_path},
                            {"ipcNamespacePath", &out.ipc_path}}) {
    if (auto it = info.find(key); it != info.end() && it->is_string()) {
      *field = it->get<std::string>();
    }
  }
  return out;
}

absl::StatusOr<PodInfo> PodSandboxInfo(CriClient& client,
                                       absl::string_view pod_sandbox_id) {
  absl::StatusOr<v1::PodSandboxStatusResponse> status =
      client.PodSandboxStatus(pod_sandbox_id, /*verbose=*/true);
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
