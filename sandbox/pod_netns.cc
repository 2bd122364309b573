#include "sandbox/pod_netns.h"

#include <string>
#include <utility>
#include <vector>

#include "netns/loopback.h"

namespace podsandbox::sandbox {

HostPodNetns::HostPodNetns(sys::Sys& sys, std::string pin_root)
    : sys_(sys), factory_(sys, std::move(pin_root)) {}

absl::Status HostPodNetns::Init() { return factory_.Init(); }

absl::StatusOr<netns::PinnedNamespaces> HostPodNetns::Create(
    absl::string_view id, const userns::IdMappings* mappings) {
  return factory_.Create(id, mappings);
}

absl::StatusOr<netns::PinnedNamespaces> HostPodNetns::CreateWithExtra(
    absl::string_view id, const userns::IdMappings* mappings,
    const netns::ExtraNamespaces& extra) {
  return factory_.Create(id, mappings, extra);
}

absl::Status HostPodNetns::BringUpLoopback(absl::string_view netns_pin) {
  return netns::BringUpLoopback(sys_, netlink_, netns_pin);
}

absl::Status HostPodNetns::Remove(absl::string_view id) {
  return factory_.Remove(id);
}

std::string HostPodNetns::NetnsPin(absl::string_view id) const {
  return factory_.PathsFor(id, /*with_userns=*/false).netns;
}

absl::StatusOr<std::vector<std::string>> HostPodNetns::ListIds() const {
  return factory_.ListNames();
}

}  // namespace podsandbox::sandbox
