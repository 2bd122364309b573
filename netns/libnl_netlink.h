// The Netlink that talks to the kernel through libnl-route-3.
#ifndef PODSANDBOX_NETNS_LIBNL_NETLINK_H_
#define PODSANDBOX_NETNS_LIBNL_NETLINK_H_

#include "netns/netlink.h"

namespace podsandbox::netns {

class LibnlNetlink : public Netlink {
 public:
  // netns::Netlink
  absl::Status SetLinkUp(absl::string_view ifname) override;
  absl::StatusOr<std::vector<LinkStats>> ListLinks() override;
};

}  // namespace podsandbox::netns

#endif  // PODSANDBOX_NETNS_LIBNL_NETLINK_H_
