// Everything a Controller is configured with: where it keeps state, which
// CNI networks and runtimes it uses, and its policies. podsandboxd fills it
// from its TOML file and flags; an embedding CRI server fills it directly.
#ifndef PODSANDBOX_SANDBOX_CONTROLLER_OPTIONS_H_
#define PODSANDBOX_SANDBOX_CONTROLLER_OPTIONS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "oci/runtime_handler.h"
#include "sandbox/pod_config.h"
#include "userns/id_mapping.h"

namespace podsandbox::sandbox {

struct ControllerOptions {
  // Persistent: one record per sandbox. Survives reboots.
  std::string root_dir = "/var/lib/podsandbox";
  // Volatile (tmpfs): namespace pins, bundles, runtime state, CNI cache.
  std::string state_dir = "/run/podsandbox";

  std::string cni_conf_dir = "/etc/cni/net.d";
  std::vector<std::string> cni_bin_dirs = {"/opt/cni/bin", "/usr/lib/cni"};
  // Deadline for one CNI plugin call.
  absl::Duration cni_timeout = absl::Seconds(30);

  // The OCI runtimes requests may select by name. Empty:
  // InstalledRuntimeHandlers(), each with its root under state_dir.
  std::vector<oci::RuntimeHandler> runtime_handlers;
  // The handler an empty request name selects. Empty: "builtin" when the
  // handlers are the installed ones, else the first configured handler.
  std::string default_runtime;

  // Run CNI ADD while the runtime creates the pause, where the runtime and
  // the pod allow it (see RunPipeline); start still waits for ADD.
  bool overlap_network_with_create = true;

  // Run the pause's kill beside CNI DEL on Stop (see StopLocked and
  // docs/design.md); the namespaces are unpinned after both.
  bool overlap_kill_with_network_delete = true;

  // infra = "none" for every handler (a handler may also set it alone):
  // no pause process for a pod that needs none (docs/design.md, "Pods
  // without a pause").
  bool infra_none = false;

  // Our static pause binary; copied into a read-only rootfs under
  // state_dir that every sandbox shares.
  std::string pause_binary;

  // Which host ids pods may map, and whether two live pods may map the
  // same ones.
  userns::MappingPolicy userns_policy;

  // What one RunPodSandbox may ask for (sizes, cgroup_parent's prefix).
  PodLimits pod_limits;
  // Sandboxes this controller holds at once, whatever their state; one
  // more RunPodSandbox is ResourceExhausted until a Remove. Far above
  // kubelet's max-pods (110 by default).
  size_t max_sandboxes = 4096;

  // Between SIGTERM and SIGKILL of a pause task on Stop.
  absl::Duration stop_grace_period = absl::Seconds(10);
  // The pause process's oom_score_adj; this VM refuses negative values.
  int oom_score_adj = 0;
};

// The runtimes a controller uses when none is configured: "builtin" (no
// binary: the daemon starts the pause itself; the default, as it is the
// fastest on every figure of bench/RESULTS.md), then runc and crun, each
// only where its package installs it (never looked up on PATH), for
// containers and for pods that name them.
std::vector<oci::RuntimeHandler> InstalledRuntimeHandlers();

// The one place the defaults left to a controller are filled in and its
// options checked, for Controller::Create and podsandboxd's configuration
// alike: with no runtime handler, InstalledRuntimeHandlers(); an empty
// default_runtime resolved (and written back); each handler's root, if
// empty, under state_dir. Then the handlers' registry.
// InvalidArgument naming the field (root_dir, state_dir,
// pod_limits.cgroup_parent_prefix, max_sandboxes, stop_grace_period,
// runtime_handlers...). Idempotent.
absl::StatusOr<oci::HandlerRegistry> CompleteControllerOptions(
    ControllerOptions& options);

}  // namespace podsandbox::sandbox

#endif  // PODSANDBOX_SANDBOX_CONTROLLER_OPTIONS_H_
