// The netlink seam: the rtnetlink operations the library makes, behind an
// interface so tests can make them fail. Like sys::Sys, each method is one
// operation with no policy of its own.
//
// Every method acts in the network namespace of the calling thread (see
// in_netns.h). Implementations are thread-safe.
#ifndef PODSANDBOX_NETNS_NETLINK_H_
#define PODSANDBOX_NETNS_NETLINK_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace podsandbox::netns {

// One link's identity and counters, as RTM_GETLINK reports them.
struct LinkStats {
  std::string name;
  int index = 0;
  bool loopback = false;  // IFF_LOOPBACK
  uint64_t rx_bytes = 0;
  uint64_t rx_errors = 0;
  uint64_t tx_bytes = 0;
  uint64_t tx_errors = 0;
};

class Netlink {
 public:
  virtual ~Netlink() = default;

  // Sets IFF_UP on the link named `ifname` (RTM_NEWLINK). NotFound if there
  // is no such link.
  virtual absl::Status SetLinkUp(absl::string_view ifname) = 0;

  // Every link with its counters (an RTM_GETLINK dump), in the kernel's
  // order. Reads only.
  virtual absl::StatusOr<std::vector<LinkStats>> ListLinks() = 0;
};

}  // namespace podsandbox::netns

#endif  // PODSANDBOX_NETNS_NETLINK_H_
