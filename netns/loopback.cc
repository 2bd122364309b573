#include "netns/loopback.h"

#include "netns/in_netns.h"
#include "netns/namespace_file.h"
#include "sys/status.h"

namespace podsandbox::netns {

absl::Status BringUpLoopback(sys::Sys& sys, Netlink& netlink,
                             absl::string_view netns_pin) {
  ASSIGN_OR_RETURN(sys::UniqueFd netns, OpenNamespace(sys, netns_pin));
  return RunInNetns(sys, netns.get(),
                    [&netlink] { return netlink.SetLinkUp("lo"); });
}

}  // namespace podsandbox::netns
