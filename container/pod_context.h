// What a container needs from its pod sandbox, filled by cri/ from the
// sandbox controller's record of the pod: where the pod's namespaces are,
// its user namespace's mappings, its cgroup parent and its pod files. The
// container layer never reads sandbox/ itself (it sits beside it), so this
// is the whole interface between them.
//
// Paths are absolute host paths that stay valid while the pod is ready
// (pins under the sandbox's state dir, or /proc/<pause pid>/ns/<type>).
#ifndef PODSANDBOX_CONTAINER_POD_CONTEXT_H_
#define PODSANDBOX_CONTAINER_POD_CONTEXT_H_

#include <optional>
#include <string>

#include "userns/id_mapping.h"

namespace podsandbox::container {

// How a container gets its PID namespace.
enum class PidMode {
  kContainer,  // a namespace of its own (CRI NamespaceMode CONTAINER)
  kPod,        // the pod's, at PodContext::pid_ns_path (CRI POD)
  kHost,       // the host's (CRI NODE)
};

struct PodContext {
  // The sandbox's id (64 hex characters).
  std::string sandbox_id;
  // Pod metadata, for the annotations runtimes and tools read
  // (io.kubernetes.cri.sandbox-*) and for log context.
  std::string pod_name;
  std::string pod_namespace;
  std::string pod_uid;
  // The pod's hostname (the UTS namespace already has it; also the
  // HOSTNAME environment variable).
  std::string hostname;

  // Namespaces to join, by path. An empty path means the host's namespace
  // of that type (host network, host IPC, host user namespace).
  std::string net_ns_path;
  std::string ipc_ns_path;
  std::string uts_ns_path;
  PidMode pid_mode = PidMode::kContainer;
  std::string pid_ns_path;  // only for PidMode::kPod
  std::string user_ns_path;
  // The pod's user namespace mappings; absent means the host's user
  // namespace. Present with an empty user_ns_path: the runtime creates a
  // user namespace with them (host network with a user namespace, where
  // the sandbox pins none).
  std::optional<userns::IdMappings> id_mappings;

  // cgroupfs parent of the pod ("/kubepods/pod<uid>"); the container's
  // cgroup is <cgroup_parent>/<container id>. Empty: the hierarchy's root.
  std::string cgroup_parent;

  // The pod's files on the host (kubelet expects them mounted at
  // /etc/hosts, /etc/resolv.conf, /etc/hostname unless the config mounts
  // its own there); empty when the pod has none.
  std::string hosts_path;
  std::string resolv_conf_path;
  std::string hostname_path;
  // A directory on the host holding the pod's shared /dev/shm (a tmpfs
  // mounted by the sandbox); empty: the container gets a tmpfs of its own.
  std::string shm_path;

  // The pod's log directory (kubelet's /var/log/pods/<ns>_<name>_<uid>).
  std::string log_directory;
  // The CRI runtime handler the pod runs with ("" = the default); its
  // containers use the same runtime.
  std::string runtime_handler;
  // The pod asked to be privileged (LinuxSandboxSecurityContext). Only then
  // may a container be privileged, as kubelet and containerd require.
  bool privileged = false;

  bool user_namespaced() const { return id_mappings.has_value(); }
};

}  // namespace podsandbox::container

#endif  // PODSANDBOX_CONTAINER_POD_CONTEXT_H_
