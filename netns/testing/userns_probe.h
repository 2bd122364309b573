// Looking inside a pinned user namespace that has no process: a forked
// child joins it and we read its /proc files.
#ifndef PODSANDBOX_NETNS_TESTING_USERNS_PROBE_H_
#define PODSANDBOX_NETNS_TESTING_USERNS_PROBE_H_

#include <sys/types.h>

#include <string>

#include "absl/status/statusor.h"
#include "userns/id_mapping.h"

namespace podsandbox::netns {

struct UsernsView {
  userns::IdMappings mappings;
  std::string setgroups;  // "allow" or "deny"
  uid_t owner_uid = 0;    // ioctl NS_GET_OWNER_UID
};

absl::StatusOr<UsernsView> ProbeUserns(const std::string& userns_path);

// Whether `ifname` is up in the network namespace pinned at `netns_path`.
absl::StatusOr<bool> LinkIsUp(const std::string& netns_path,
                              const std::string& ifname);

}  // namespace podsandbox::netns

#endif  // PODSANDBOX_NETNS_TESTING_USERNS_PROBE_H_
