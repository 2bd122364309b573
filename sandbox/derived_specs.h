// What the lower layers are given for one sandbox, derived from its record
// alone: the pause task's spec and the CNI attachment. Derived, never
// stored, so that Stop, Remove and restart recovery rebuild exactly what
// RunPodSandbox used.
#ifndef PODSANDBOX_SANDBOX_DERIVED_SPECS_H_
#define PODSANDBOX_SANDBOX_DERIVED_SPECS_H_

#include <optional>

#include "cni/attachment.h"
#include "oci/task_spec.h"
#include "sandbox/pod_files.h"
#include "sandbox/record.h"

namespace podsandbox::sandbox {

// The pause task of `record`'s sandbox. With host network and a user
// namespace there is no pin: the runtime creates the user namespace from
// the mappings.
oci::TaskSpec TaskSpecFor(const SandboxRecord& record, int oom_score_adj);

// The CNI attachment of `record`'s sandbox: eth0 in its netns pin, the
// pod's identity, and the port mappings and DNS as capability arguments.
cni::Attachment AttachmentFor(const SandboxRecord& record);

// The host ids of the pod's root, who owns the pod files; none without a
// user namespace (or when the maps do not cover container id 0).
std::optional<PodFileOwner> PodRootOwner(const PodConfig& config);

}  // namespace podsandbox::sandbox

#endif  // PODSANDBOX_SANDBOX_DERIVED_SPECS_H_
