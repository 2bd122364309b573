// Bringing up `lo` in a new network namespace (it starts DOWN) with one
// netlink request, instead of running the loopback CNI plugin: the same
// effect for microseconds instead of a ~10 ms plugin exec per ADD and DEL.
#ifndef PODSANDBOX_NETNS_LOOPBACK_H_
#define PODSANDBOX_NETNS_LOOPBACK_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "netns/netlink.h"
#include "sys/sys.h"

namespace podsandbox::netns {

// Sets `lo` up in the network namespace pinned at `netns_pin`.
absl::Status BringUpLoopback(sys::Sys& sys, Netlink& netlink,
                             absl::string_view netns_pin);

}  // namespace podsandbox::netns

#endif  // PODSANDBOX_NETNS_LOOPBACK_H_
