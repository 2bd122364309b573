// Reading /proc: process identity (pid plus start time, which together name
// one process even after its pid is reused) and this process's children.
#ifndef PODSANDBOX_SYS_PROC_H_
#define PODSANDBOX_SYS_PROC_H_

#include <sys/types.h>

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"

namespace podsandbox::sys {

struct ProcStat {
  char state = '?';         // field 3: R, S, D, Z, ...
  pid_t ppid = 0;           // field 4
  pid_t pgid = 0;           // field 5
  uint64_t start_time = 0;  // field 22, clock ticks after boot
};

// Parses /proc/<pid>/stat. NotFound when the process does not exist.
absl::StatusOr<ProcStat> ReadProcStat(pid_t pid);

// The children of every thread of this process
// (/proc/self/task/*/children): its own and the orphans it adopted as a
// child subreaper.
absl::StatusOr<std::vector<pid_t>> ListChildren();

}  // namespace podsandbox::sys

#endif  // PODSANDBOX_SYS_PROC_H_
