#include "sandbox/status_info.h"

#include "nlohmann/json.hpp"
#include "oci/spec.h"

namespace podsandbox::sandbox {
namespace {

using json = nlohmann::json;

std::string InfoJson(const SandboxRecord& r, oci::RuntimeType runtime_type,
                     const std::string& bundle) {
  json steps = json::array();
  for (Step step : r.steps) steps.push_back(StepName(step));
  json cni_result = nullptr;
  if (!r.cni_result.empty()) {
    cni_result = json::parse(r.cni_result, nullptr, /*allow_exceptions=*/false);
    if (cni_result.is_discarded()) cni_result = r.cni_result;
  }
  json info = {
      {"pid", r.phase == Phase::kReady ? r.pid : 0},
      {"processStatus", r.phase == Phase::kReady ? "running" : "stopped"},
      {"netNamespacePath", r.netns_pin},
      {"netNamespaceClosed",
       r.netns_pin.empty() || !r.HasStep(Step::kNamespaces)},
      {"runtimeHandler", r.runtime_handler},
      {"runtimeType", oci::RuntimeTypeName(runtime_type)},
      {"bundle", bundle},
      {"cniResult", cni_result},
      {"phase", PhaseName(r.phase)},
      {"steps", steps},
  };
  // The pod's /dev/shm, for its containers to bind (cri/pod_context.cc).
  if (!r.shm_path.empty() && r.HasStep(Step::kShm)) {
    info["shmPath"] = r.shm_path;
  }
  if (!r.uts_pin.empty()) {
    // No pause (infra = "none"): no process to name; the pins are the pod.
    info.erase("pid");
    info.erase("processStatus");
    info["infra"] = "none";
    info["utsNamespacePath"] = r.uts_pin;
    info["ipcNamespacePath"] = r.ipc_pin;
  }
  if (r.config.user_namespaced()) {
    info["userNamespace"] = {
        {"path", r.userns_pin},
        {"uidMappings",
         oci::OciIdMappings(r.config.namespaces.userns.mappings.uids)},
        {"gidMappings",
         oci::OciIdMappings(r.config.namespaces.userns.mappings.gids)},
    };
  }
  if (r.exited_at != absl::InfinitePast()) {
    info["exitStatus"] = r.exit_status;
    info["exitedAt"] =
        absl::FormatTime(absl::RFC3339_full, r.exited_at, absl::UTCTimeZone());
  }
  return info.dump();
}

}  // namespace

SandboxState StateOf(Phase phase) {
  return phase == Phase::kReady ? SandboxState::kReady
                                : SandboxState::kNotReady;
}

SandboxStatus StatusOf(const SandboxRecord& record,
                       oci::RuntimeType runtime_type, const std::string& bundle,
                       bool verbose) {
  SandboxStatus status;
  status.id = record.id;
  status.config = record.config;
  status.runtime_handler = record.runtime_handler;
  status.state = StateOf(record.phase);
  status.created_at = record.created_at;
  // Only while attached: after Stop the lease is released and another pod
  // may hold the address.
  if (!record.ips.empty() && record.HasStep(Step::kNetwork)) {
    status.ip = record.ips.front();
    status.additional_ips.assign(record.ips.begin() + 1, record.ips.end());
  }
  if (verbose) status.info_json = InfoJson(record, runtime_type, bundle);
  return status;
}

}  // namespace podsandbox::sandbox
