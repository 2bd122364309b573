// Reading the links of a pinned network namespace and their counters, for
// a pod's network stats: one rtnetlink dump from a socket opened inside
// the namespace (in_netns.h), so no process is started and no thread of
// the caller changes namespace.
#ifndef PODSANDBOX_NETNS_LINK_STATS_H_
#define PODSANDBOX_NETNS_LINK_STATS_H_

#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "netns/netlink.h"
#include "sys/sys.h"

namespace podsandbox::netns {

// Every link of the network namespace at `netns_path` (a pin, or
// /proc/<pid>/ns/net) with its counters. NotFound when the path does not
// exist; the setns or netlink error otherwise. Thread-safe; blocks the
// caller for one short-lived thread's dump.
absl::StatusOr<std::vector<LinkStats>> ReadLinkStats(
    sys::Sys& sys, Netlink& netlink, absl::string_view netns_path);

}  // namespace podsandbox::netns

#endif  // PODSANDBOX_NETNS_LINK_STATS_H_
