// The container layer's view of a pod (container::PodContext), read from
// the sandbox controller: cri/ is the one place that sees both, since
// container/ sits beside sandbox/ and never includes it.
//
// Namespaces: net and user are the sandbox's pins; IPC, UTS and a pod-level
// PID namespace are the pause's, through /proc/<pause pid>/ns/<type> (the
// pause holds them as long as the pod is ready, as containerd's
// WithPodNamespaces does); for a pod without a pause (infra = "none"),
// IPC and UTS are its pins too. Pod files are the sandbox's hosts, resolv.conf
// and hostname under <state>/pods/<id>/.
#ifndef PODSANDBOX_CRI_POD_CONTEXT_H_
#define PODSANDBOX_CRI_POD_CONTEXT_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "container/pod_context.h"
#include "sandbox/controller.h"

namespace podsandbox::cri {

// InvalidArgument naming pod_sandbox_id for an unknown sandbox or one that
// is not ready (the "container in an unknown or stopped pod").
// Reads memory only (PodSandboxStatus), so it never waits behind slow work.
absl::StatusOr<container::PodContext> PodContextOf(
    sandbox::Controller& controller, absl::string_view sandbox_id,
    absl::string_view state_dir);

}  // namespace podsandbox::cri

#endif  // PODSANDBOX_CRI_POD_CONTEXT_H_
