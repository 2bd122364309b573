// Creating a network namespace, optionally owned by a fresh user namespace,
// and pinning both under a directory we own.
//
// Why both, and in this order: a network namespace belongs to the user
// namespace its creator was in. If a runtime later puts a container in a new
// user namespace and joins a netns we made in the host's, the container's
// root has no CAP_SYS_ADMIN over that netns and mounting /sys fails with
// EPERM. So the user namespace comes first and the netns is made inside it.
//
// The library lives in a multithreaded daemon, and the kernel refuses
// unshare(CLONE_NEWUSER) to a multithreaded process, so a helper child is
// cloned straight into the new namespaces; we write its maps, pin its
// namespaces and then end and reap it.
//
// Layout: <pin_root>/netns/<name> and <pin_root>/userns/<name>. The userns
// pin gives a runtime a path to join that stays valid across our restarts.
//
// Thread-safe: different names may be created and removed concurrently;
// callers serialise operations on one name.
#ifndef PODSANDBOX_NETNS_NAMESPACES_H_
#define PODSANDBOX_NETNS_NAMESPACES_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "sys/sys.h"
#include "userns/id_mapping.h"

namespace podsandbox::netns {

struct PinnedNamespaces {
  std::string netns;   // pin of the network namespace
  std::string userns;  // pin of the user namespace that owns it; empty when
                       // the netns belongs to the host's user namespace
  // Pins of the UTS and IPC namespaces, when asked for (ExtraNamespaces).
  std::string uts;
  std::string ipc;
};

// What Create makes beside the netns, for a pod with no process to hold
// its namespaces (no pause: infra = "none", as CRI-O's pinns does): new
// UTS and IPC namespaces, created with the netns (so inside the pod's user
// namespace, which owns them), pinned as uts/<name> and ipc/<name>.
struct ExtraNamespaces {
  bool uts_and_ipc = false;
  // Set in the new UTS namespace when not empty (at most 64 bytes).
  std::string hostname;
};

// Undoes NamespaceFactory::Init's mounts of the pin directories under
// `pin_root` (a detached unmount of each; one not mounted is fine), so the
// tree can be removed. For tests and benchmarks that throw their pin root
// away: the daemon leaves its pin directories mounted, as `ip netns` leaves
// /run/netns. Errors: the failing umount2's.
absl::Status UnmountPinDirs(sys::Sys& sys, absl::string_view pin_root);

class NamespaceFactory {
 public:
  NamespaceFactory(sys::Sys& sys, std::string pin_root);

  // Creates both pin directories as shared mounts. Call once before Create.
  absl::Status Init();

  // Creates a network namespace and pins it as `name`. With `mappings`, it
  // is created inside a new user namespace with those maps (validated by
  // the caller with userns::ValidateMappings), also pinned. The user
  // namespace is owned by host root (our euid), as runc's and CRI-O's are:
  // no host process running as a mapped uid holds capabilities in it or
  // may join it (docs/design.md, "User namespace ownership").
  //
  // Atomic: on any failure no pin, mount or helper process is left.
  // Errors: InvalidArgument for a bad name, AlreadyExists if `name` is
  // pinned, the failing syscall's code otherwise.
  absl::StatusOr<PinnedNamespaces> Create(absl::string_view name,
                                          const userns::IdMappings* mappings);
  // The same, with `extra`'s namespaces pinned too (their pin directories
  // are made shared mounts on first use). Atomic likewise; InvalidArgument
  // also for a hostname without uts_and_ipc or longer than 64 bytes.
  absl::StatusOr<PinnedNamespaces> Create(absl::string_view name,
                                          const userns::IdMappings* mappings,
                                          const ExtraNamespaces& extra);

  // Unpins every namespace of `name` (net, user, uts, ipc). Idempotent.
  absl::Status Remove(absl::string_view name);

  // Where Create puts the pins of `name`.
  PinnedNamespaces PathsFor(absl::string_view name, bool with_userns) const;

  // Names with a netns or userns pin, for garbage collection.
  absl::StatusOr<std::vector<std::string>> ListNames() const;

 private:
  sys::Sys& sys_;
  const std::string netns_dir_;
  const std::string userns_dir_;
  const std::string uts_dir_;
  const std::string ipc_dir_;
};

}  // namespace podsandbox::netns

#endif  // PODSANDBOX_NETNS_NAMESPACES_H_
