// Checks of the user namespace a runtime gives a pod's pause process, read
// from /proc: its maps, that host root stays out of it, that pods with
// disjoint maps are apart, and that invalid requests are refused rather
// than silently ignored (containerd 1.6 accepts any userns_options and
// runs the pause in the host's user namespace).
//
// Contract of every check: it starts its own uniquely named sandboxes
// through `env`, stops and removes each one it started on every path
// (absl::Cleanup), and returns PASS, FAIL with what the kernel showed (or
// with why the reported pid is not the pod's pause, or that a runtime that
// accepted a user namespace reports nothing checkable: CheckEnv::PauseInfo),
// or SKIP when the runtime reported pinned namespaces but no pause pid.
#ifndef PODSANDBOX_HARNESS_USERNS_CHECKS_H_
#define PODSANDBOX_HARNESS_USERNS_CHECKS_H_

#include <sys/types.h>

#include <string>

#include "harness/check_env.h"
#include "harness/verdict.h"
#include "userns/id_mapping.h"

namespace podsandbox::harness {

// A FAIL for a pause whose maps are not `want`: "accepted and ignored"
// when the pause is in the host's user namespace, "accepted and not
// isolated" when its maps hold host id 0, else the maps seen against the
// maps wanted. PASS when they are equal.
Verdict CompareMaps(pid_t pid, const userns::IdMappings& want);

// What the kernel shows for a pod whose request should have been refused:
// "accepted and ignored: ..." (host user namespace), "accepted and not
// isolated: ..." (host id 0 mapped) or "accepted: ..." with its maps.
std::string DescribeAcceptedPod(pid_t pid);

// uid_map and gid_map of the pause equal a one-range request.
Verdict CheckMapsOneRange(CheckEnv& env);
// The same with two ranges each; SKIP when the runtime refuses them.
Verdict CheckMapsSeveralRanges(CheckEnv& env);
// Host uid and gid 0 are in neither map when the request leaves them out.
Verdict CheckHostRootNotMapped(CheckEnv& env);
// Two pods with disjoint maps get two user namespaces, neither the host's.
Verdict CheckDisjointPodsApart(CheckEnv& env);

// Each invalid request is refused by RunPodSandbox: mode CONTAINER,
// overlapping container ranges, a zero length, uids without gids.
Verdict CheckRefusesModeContainer(CheckEnv& env);
Verdict CheckRefusesOverlappingRanges(CheckEnv& env);
Verdict CheckRefusesZeroLength(CheckEnv& env);
Verdict CheckRefusesUidsWithoutGids(CheckEnv& env);

}  // namespace podsandbox::harness

#endif  // PODSANDBOX_HARNESS_USERNS_CHECKS_H_
