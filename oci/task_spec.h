// What the pause task of one pod sandbox needs, independent of CRI and of
// any runtime: the controller fills a TaskSpec from the pod's config, and
// spec.h turns it into a runtime's config.json.
//
// A plain value type; validation happens in BuildOciSpec, before any side
// effect.
#ifndef PODSANDBOX_OCI_TASK_SPEC_H_
#define PODSANDBOX_OCI_TASK_SPEC_H_

#include <map>
#include <optional>
#include <string>

#include "userns/id_mapping.h"

namespace podsandbox::oci {

struct TaskSpec {
  // The sandbox id (64 hex characters from the controller); also the
  // runtime's container id.
  std::string sandbox_id;
  // Pod metadata, for the annotations runtimes use to recognise a sandbox.
  std::string pod_name;
  std::string pod_namespace;
  std::string pod_uid;
  // The pod's hostname. Ignored with host network, which shares the host's
  // UTS namespace.
  std::string hostname;

  // The pinned network namespace to join; empty means host network.
  std::string netns_path;
  // The pod's ID mappings; absent means no user namespace.
  std::optional<userns::IdMappings> id_mappings;
  // The pinned user namespace those mappings belong to (it owns
  // netns_path). Empty with id_mappings set means the runtime creates the
  // user namespace itself (host network with a user namespace).
  std::string userns_path;

  bool host_pid = false;
  bool host_ipc = false;
  // With host_ipc: the host's /dev/mqueue is an mqueue mount, bound in
  // (oci::IsMqueueMount; filled by the caller so the spec stays a pure
  // function of this struct).
  bool host_mqueue = false;
  // A privileged sandbox: no masked or read-only paths, /sys writable. The
  // pause process still runs without capabilities.
  bool privileged = false;

  // cgroupfs parent of the sandbox's cgroup ("/kubepods/pod<uid>"); empty
  // means the hierarchy's root. The sandbox's cgroup is <parent>/<id>.
  std::string cgroup_parent;
  // Namespaced sysctls for the pod ("net.ipv4.ip_unprivileged_port_start").
  std::map<std::string, std::string> sysctls;
  // Added to the spec's annotations; never replaces the ones we set.
  std::map<std::string, std::string> annotations;
  // The pause process's oom_score_adj, -1000..1000. Negative values need
  // CAP_SYS_RESOURCE, which not every host grants (see pause_task.h).
  int oom_score_adj = 0;
};

}  // namespace podsandbox::oci

#endif  // PODSANDBOX_OCI_TASK_SPEC_H_
