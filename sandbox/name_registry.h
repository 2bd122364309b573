// Pod name reservations: one sandbox per (name, namespace, uid, attempt).
//
// kubelet retries RunPodSandbox with the same name after its own deadline
// while the first call may still be running. Answering "name is reserved"
// then (as containerd does) makes kubelet retry forever. Instead, a retry
// with the same request waits for the first call and gets its outcome; a
// different request under a held name is refused naming the holder.
//
// It also bounds the number of sandboxes: every sandbox, creating, ready,
// stopped or recovered, holds exactly one name until it is removed.
//
// Thread-safe.
#ifndef PODSANDBOX_SANDBOX_NAME_REGISTRY_H_
#define PODSANDBOX_SANDBOX_NAME_REGISTRY_H_

#include <cstddef>
#include <limits>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "sandbox/pod_config.h"

namespace podsandbox::sandbox {

// "name_namespace_uid_attempt", the key CRI runtimes reserve.
std::string ReservationKey(const PodMetadata& metadata);

class NameRegistry {
 public:
  struct Claim {
    std::string id;
    // False: `id` is new and the caller must create it (then MarkCreated or
    // Release). True: a sandbox created from the same request holds the
    // name.
    bool existing = false;
  };

  // At most `max_sandboxes` names are held at once (Restore may exceed it).
  explicit NameRegistry(
      size_t max_sandboxes = std::numeric_limits<size_t>::max())
      : max_sandboxes_(max_sandboxes) {}

  // Reserves `key` for `new_id`, or finds its holder. If a creation from an
  // identical request (config and handler) is in progress, waits for it to
  // end first. AlreadyExists, naming the holder, when the holder was made
  // from a different request. ResourceExhausted when `key` is free but
  // max_sandboxes names are held: the node is full until a Remove.
  absl::StatusOr<Claim> Reserve(const std::string& key, const PodConfig& config,
                                absl::string_view handler,
                                const std::string& new_id)
      ABSL_LOCKS_EXCLUDED(mu_);

  // The creation of `id` under `key` finished: the name stays held.
  void MarkCreated(const std::string& key, absl::string_view id)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Frees `key` if `id` holds it; waiters then retry.
  void Release(const std::string& key, absl::string_view id)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Holds `key` for an existing sandbox (restart recovery).
  void Restore(const std::string& key, const PodConfig& config,
               absl::string_view handler, absl::string_view id)
      ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Holder {
    std::string id;
    PodConfig config;
    std::string handler;
    bool creating = false;
  };

  const size_t max_sandboxes_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Holder> holders_ ABSL_GUARDED_BY(mu_);
};

}  // namespace podsandbox::sandbox

#endif  // PODSANDBOX_SANDBOX_NAME_REGISTRY_H_
