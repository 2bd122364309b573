// A process's user namespace maps under /proc/<pid>: writing them into a
// fresh user namespace, and reading them back.
#ifndef PODSANDBOX_USERNS_PROC_MAPS_H_
#define PODSANDBOX_USERNS_PROC_MAPS_H_

#include <sys/types.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "sys/sys.h"
#include "userns/id_mapping.h"

namespace podsandbox::userns {

// Writes gid_map, then uid_map, of `pid`, which must have just entered a new
// user namespace. setgroups is left at "allow": we write as a privileged
// parent, so the kernel does not require "deny", and supplementary groups
// must keep working in the pod. Each map can be written once; errors name
// the file.
absl::Status WriteProcessMaps(sys::Sys& sys, pid_t pid,
                              const IdMappings& mappings);

// The uid and gid maps of `pid`'s user namespace, as seen from ours.
absl::StatusOr<IdMappings> ReadProcessMaps(pid_t pid);

}  // namespace podsandbox::userns

#endif  // PODSANDBOX_USERNS_PROC_MAPS_H_
