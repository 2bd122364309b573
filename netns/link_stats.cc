#include "netns/link_stats.h"

#include <utility>

#include "netns/in_netns.h"
#include "netns/namespace_file.h"
#include "sys/status.h"
#include "sys/unique_fd.h"

namespace podsandbox::netns {

absl::StatusOr<std::vector<LinkStats>> ReadLinkStats(
    sys::Sys& sys, Netlink& netlink, absl::string_view netns_path) {
  ASSIGN_OR_RETURN(sys::UniqueFd netns, OpenNamespace(sys, netns_path));
  std::vector<LinkStats> links;
  RETURN_IF_ERROR(RunInNetns(sys, netns.get(), [&]() -> absl::Status {
    ASSIGN_OR_RETURN(links, netlink.ListLinks());
    return absl::OkStatus();
  }));
  return links;
}

}  // namespace podsandbox::netns
