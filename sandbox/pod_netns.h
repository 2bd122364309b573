// What the controller asks of netns/ for a pod: its pinned namespaces
// (a user namespace if it has one, and the netns that namespace owns), lo
// up inside, their removal, and the list of pins for orphan collection.
//
// An interface because tests without root need a second implementation
// (sandbox/testing/fake_pod_netns.h: "pins" are plain files); the real one,
// HostPodNetns, is netns::NamespaceFactory plus lo over netlink
// (netns::BringUpLoopback with a LibnlNetlink), which need root.
//
// Contracts are NamespaceFactory's: Create is atomic (AlreadyExists if the
// id is pinned); Remove is idempotent. Thread-safe for different ids.
#ifndef PODSANDBOX_SANDBOX_POD_NETNS_H_
#define PODSANDBOX_SANDBOX_POD_NETNS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "netns/libnl_netlink.h"
#include "netns/namespaces.h"
#include "sys/sys.h"
#include "userns/id_mapping.h"

namespace podsandbox::sandbox {

class PodNetns {
 public:
  virtual ~PodNetns() = default;

  // Prepares the pin directories. Call once before anything else.
  virtual absl::Status Init() = 0;
  // Pins a netns for `id`, inside a new user namespace with `mappings`
  // when they are given.
  virtual absl::StatusOr<netns::PinnedNamespaces> Create(
      absl::string_view id, const userns::IdMappings* mappings) = 0;
  // The same with `extra`'s namespaces pinned too (a pod without a pause).
  // Unimplemented unless overridden.
  virtual absl::StatusOr<netns::PinnedNamespaces> CreateWithExtra(
      absl::string_view id, const userns::IdMappings* mappings,
      const netns::ExtraNamespaces& extra) {
    if (!extra.uts_and_ipc) return Create(id, mappings);
    return absl::UnimplementedError("pinned UTS and IPC namespaces");
  }
  // Sets lo up in the netns pinned at `netns_pin`.
  virtual absl::Status BringUpLoopback(absl::string_view netns_pin) = 0;
  virtual absl::Status Remove(absl::string_view id) = 0;
  // Where `id`'s netns pin is (whether or not it exists).
  virtual std::string NetnsPin(absl::string_view id) const = 0;
  // The ids with a pin.
  virtual absl::StatusOr<std::vector<std::string>> ListIds() const = 0;
};

// The host's: pins under `pin_root` (<state>/ns).
class HostPodNetns : public PodNetns {
 public:
  HostPodNetns(sys::Sys& sys, std::string pin_root);

  // sandbox::PodNetns
  absl::Status Init() override;
  absl::StatusOr<netns::PinnedNamespaces> Create(
      absl::string_view id, const userns::IdMappings* mappings) override;
  absl::StatusOr<netns::PinnedNamespaces> CreateWithExtra(
      absl::string_view id, const userns::IdMappings* mappings,
      const netns::ExtraNamespaces& extra) override;
  absl::Status BringUpLoopback(absl::string_view netns_pin) override;
  absl::Status Remove(absl::string_view id) override;
  std::string NetnsPin(absl::string_view id) const override;
  absl::StatusOr<std::vector<std::string>> ListIds() const override;

 private:
  sys::Sys& sys_;
  netns::NamespaceFactory factory_;
  netns::LibnlNetlink netlink_;
};

}  // namespace podsandbox::sandbox

#endif  // PODSANDBOX_SANDBOX_POD_NETNS_H_
