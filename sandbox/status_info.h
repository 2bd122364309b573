// A sandbox's CRI-facing status, built from its record: the state kubelet
// sees, and the verbose "info" JSON in containerd's shape (so crictl
// inspectp and tools written for containerd find pid, netns and runtime
// where they expect them), plus what only we know: the user namespace and
// the step journal.
#ifndef PODSANDBOX_SANDBOX_STATUS_INFO_H_
#define PODSANDBOX_SANDBOX_STATUS_INFO_H_

#include <string>

#include "oci/runtime_type.h"
#include "sandbox/controller.h"
#include "sandbox/record.h"

namespace podsandbox::sandbox {

// READY only while the pause runs; every other phase is NOTREADY.
SandboxState StateOf(Phase phase);

// The status of `record`; `info_json` filled when `verbose`.
SandboxStatus StatusOf(const SandboxRecord& record,
                       oci::RuntimeType runtime_type, const std::string& bundle,
                       bool verbose);

}  // namespace podsandbox::sandbox

#endif  // PODSANDBOX_SANDBOX_STATUS_INFO_H_
