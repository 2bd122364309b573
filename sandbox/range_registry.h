// Host id ranges that live user-namespaced sandboxes hold, so that no two
// pods map the same host ids (unless the policy allows it): pods sharing a
// host uid can signal and ptrace each other and read each other's files,
// which is what a user namespace per pod is meant to prevent. Kubelet
// allocates disjoint ranges; this catches a client that does not.
//
// A sandbox holds its ranges from RunPodSandbox's reservation until
// RemovePodSandbox (or the rollback of a failed creation); restart recovery
// restores them from the records. Uid ranges are compared with uid ranges,
// gid ranges with gid ranges.
//
// Thread-safe: Reserve checks and takes under one lock, so two concurrent
// RunPodSandbox calls with overlapping ranges cannot both succeed.
#ifndef PODSANDBOX_SANDBOX_RANGE_REGISTRY_H_
#define PODSANDBOX_SANDBOX_RANGE_REGISTRY_H_

#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "userns/id_mapping.h"

namespace podsandbox::sandbox {

class RangeRegistry {
 public:
  // Holds `mappings`' host ranges for sandbox `id`; `pod` ("namespace/name")
  // names it in others' messages. InvalidArgument naming the first
  // overlapping range as "<field_prefix>.uids[1]" and the sandbox (id and
  // pod) holding the range it overlaps. Holds all of them or none. A second
  // Reserve for the same id replaces its ranges.
  absl::Status Reserve(absl::string_view id, absl::string_view pod,
                       const userns::IdMappings& mappings,
                       absl::string_view field_prefix) ABSL_LOCKS_EXCLUDED(mu_);

  // Holds ranges without checking them (restart recovery: the records were
  // accepted before, perhaps under a policy that allowed overlaps).
  void Restore(absl::string_view id, absl::string_view pod,
               const userns::IdMappings& mappings) ABSL_LOCKS_EXCLUDED(mu_);

  // Frees what `id` holds; nothing if it holds nothing.
  void Release(absl::string_view id) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Holder {
    std::string pod;
    userns::IdMappings mappings;
  };

  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Holder> holders_ ABSL_GUARDED_BY(mu_);
};

}  // namespace podsandbox::sandbox

#endif  // PODSANDBOX_SANDBOX_RANGE_REGISTRY_H_
