#include "cri/pod_context.h"

#include <sys/stat.h>
#include <sys/types.h>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace podsandbox::cri {
namespace {

std::string IfExists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? path : std::string();
}

}  // namespace

absl::StatusOr<container::PodContext> PodContextOf(
    sandbox::Controller& controller, absl::string_view sandbox_id,
    absl::string_view state_dir) {
  absl::StatusOr<sandbox::SandboxStatus> status =
      controller.PodSandboxStatus(sandbox_id, /*verbose=*/true);
  if (absl::IsNotFound(status.status())) {
    return absl::InvalidArgumentError(
        absl::StrCat("pod_sandbox_id: no pod sandbox ", sandbox_id));
  }
  if (!status.ok()) return status.status();
  if (status->state != sandbox::SandboxState::kReady) {
    return absl::InvalidArgumentError(absl::StrCat(
        "pod_sandbox_id: pod sandbox ", sandbox_id, " is not ready"));
  }
  nlohmann::json info = nlohmann::json::parse(status->info_json, nullptr,
                                              /*allow_exceptions=*/false);
  if (info.is_discarded() || !info.is_object()) {
    return absl::InternalError(
        absl::StrCat("pod sandbox ", sandbox_id, ": unreadable status info"));
  }
  // A pod without a pause (infra = "none") is its pins: its containers
  // join the pinned UTS and IPC namespaces. Such a pod has no pod-level
  // PID namespace (it would have got a pause), so no pid is needed.
  const bool no_pause = info.value("infra", "") == "none";
  int pid = info.value("pid", 0);
  if (pid <= 0 && !no_pause) {
    return absl::InvalidArgumentError(absl::StrCat(
        "pod_sandbox_id: pod sandbox ", sandbox_id, " has no running pause"));
  }
  const sandbox::PodConfig& config = status->config;
  const std::string proc_ns = absl::StrCat("/proc/", pid, "/ns/");
  container::PodContext pod;
  pod.sandbox_id = status->id;
  pod.pod_name = config.metadata.name;
  pod.pod_namespace = config.metadata.namespace_;
  pod.pod_uid = config.metadata.uid;
  pod.hostname = config.hostname;
  pod.net_ns_path = info.value("netNamespacePath", "");
  if (config.namespaces.ipc != sandbox::NamespaceMode::kNode) {
    pod.ipc_ns_path = proc_ns + "ipc";
  }
  // With host network the pod keeps the host's UTS namespace too.
  if (!config.host_network()) pod.uts_ns_path = proc_ns + "uts";
  if (no_pause) {
    pod.ipc_ns_path = info.value("ipcNamespacePath", "");
    pod.uts_ns_path = info.value("utsNamespacePath", "");
  }
  switch (config.namespaces.pid) {
    case sandbox::NamespaceMode::kPod:
      pod.pid_mode = container::PidMode::kPod;
      pod.pid_ns_path = proc_ns + "pid";
      break;
    case sandbox::NamespaceMode::kNode:
      pod.pid_mode = container::PidMode::kHost;
      break;
    default:
      pod.pid_mode = container::PidMode::kContainer;
      break;
  }
  if (config.user_namespaced()) {
    pod.id_mappings = config.namespaces.userns.mappings;
    if (info.contains("userNamespace") && info["userNamespace"].is_object()) {
      pod.user_ns_path = info["userNamespace"].value("path", "");
    }
  }
  pod.cgroup_parent = config.cgroup_parent;
  const std::string files = absl::StrCat(state_dir, "/pods/", status->id, "/");
  pod.hosts_path = IfExists(files + "hosts");
  pod.resolv_conf_path = IfExists(files + "resolv.conf");
  pod.hostname_path = IfExists(files + "hostname");
  // The pod's /dev/shm tmpfs (absent with host IPC: then the host's).
  pod.shm_path = info.value("shmPath", "");
  pod.log_directory = config.log_directory;
  pod.runtime_handler = status->runtime_handler;
  pod.privileged = config.privileged;
  return pod;
}

}  // namespace podsandbox::cri
