// Pod configs the end to end tests of podsandboxd share.
#ifndef PODSANDBOX_CRI_TESTING_POD_CONFIG_H_
#define PODSANDBOX_CRI_TESTING_POD_CONFIG_H_

#include <cstdint>

#include "absl/strings/string_view.h"
#include "cri/api.pb.h"

namespace podsandbox::cri {

// A pod named `name` in namespace "test" (uid "uid-<name>", hostname
// `name`), in the host's user namespace.
::runtime::v1::PodSandboxConfig NamedPodConfig(absl::string_view name);

// NamedPodConfig with its own user namespace mapping 65536 ids, container
// 0 at host `host_base`. Pods that live at once need disjoint host ids.
::runtime::v1::PodSandboxConfig UsernsPodConfig(absl::string_view name,
                                                uint32_t host_base);

}  // namespace podsandbox::cri

#endif  // PODSANDBOX_CRI_TESTING_POD_CONFIG_H_
