// Checks of how the pod's other namespaces relate to its user namespace,
// and of teardown: the netns owner (the order problem of docs/design.md: a
// netns made before the pod's userns belongs to the host's, and the pod's
// root cannot mount sysfs for it), /sys, userns with host network, and what
// Stop and Remove leave behind.
//
// Same contract as userns_checks.h: own uniquely named sandboxes, always
// stopped and removed; PASS, FAIL with the observed value, or SKIP with
// the reason (pinned namespaces but no pause pid reported, request refused
// where that is allowed); a reported pid that is not the pod's pause FAILs
// (CheckEnv::PauseInfo).
#ifndef PODSANDBOX_HARNESS_NAMESPACE_CHECKS_H_
#define PODSANDBOX_HARNESS_NAMESPACE_CHECKS_H_

#include <sys/types.h>

#include "absl/strings/string_view.h"
#include "harness/check_env.h"
#include "harness/kernel_view.h"
#include "harness/verdict.h"

namespace podsandbox::harness {

// NS_GET_USERNS of /proc/<pid>/ns/net is /proc/<pid>/ns/user, and that is
// not the host's user namespace. (That a reported netns path is the
// pause's is part of CheckEnv::PauseInfo, for every check.)
Verdict CheckNetnsOwnedByPodUserns(CheckEnv& env);
// /sys in the pod is the sysfs of the pause's own network namespace (the
// superblock a fresh sysfs mount in that netns gets), not missing, not the
// host's, not another netns's.
Verdict CheckSysfsMounted(CheckEnv& env);

// CheckSysfsMounted's verdict on what it read: the mount at /sys in the
// pause `pid`, the device of the host's /sys, and the device of the sysfs
// of the pause's netns (SysfsDeviceOfNetns).
Verdict JudgeSysfs(pid_t pid, const MountEntry& pod_sys,
                   absl::string_view host_device,
                   absl::string_view netns_device);
// userns with host network, if accepted: /sys (and every mount below it)
// is a read-only bind of the host's sysfs, the pause is in the host netns,
// and its user namespace still holds the requested maps.
Verdict CheckHostNetworkUserns(CheckEnv& env);
// After Stop and Remove: no pause process, no pinned netns (or userns)
// at the paths the runtime reported.
Verdict CheckTeardownLeavesNothing(CheckEnv& env);

}  // namespace podsandbox::harness

#endif  // PODSANDBOX_HARNESS_NAMESPACE_CHECKS_H_
