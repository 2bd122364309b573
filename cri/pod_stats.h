// What PodSandboxStats reads besides the cgroups: the pod's network
// interfaces, from /proc/<pause pid>/net/dev (which shows the network
// namespace of that process: no setns needed).
#ifndef PODSANDBOX_CRI_POD_STATS_H_
#define PODSANDBOX_CRI_POD_STATS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace podsandbox::cri {

struct InterfaceUsage {
  std::string name;
  uint64_t rx_bytes = 0;
  uint64_t rx_errors = 0;
  uint64_t tx_bytes = 0;
  uint64_t tx_errors = 0;
};

// The interfaces of a /proc/<pid>/net/dev text but lo, in the file's
// order; malformed lines are skipped.
std::vector<InterfaceUsage> ParseNetDev(absl::string_view text);

}  // namespace podsandbox::cri

#endif  // PODSANDBOX_CRI_POD_STATS_H_
