// Namespace pins: a namespace file (/proc/<pid>/ns/<type>) bind-mounted onto
// an empty file keeps the namespace alive with no process in it, under a
// path that stays valid across our restarts.
#ifndef PODSANDBOX_NETNS_PIN_H_
#define PODSANDBOX_NETNS_PIN_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "sys/sys.h"

namespace podsandbox::netns {

// Makes `dir` a shared mount (bind-mounting it onto itself first if it is
// not a mount point), as `ip netns` does for /run/netns, so that pins made
// later propagate into mount namespaces that were copied from ours.
// Creates `dir` if needed. Idempotent.
absl::Status MakeSharedPinDir(sys::Sys& sys, absl::string_view dir);

// Creates `pin` (O_EXCL: AlreadyExists if it exists) and bind-mounts
// `namespace_file` onto it. Atomic: on failure nothing is left.
absl::Status Pin(sys::Sys& sys, absl::string_view namespace_file,
                 absl::string_view pin);

// Detaches the bind mount at `pin` and removes the file. Idempotent: a pin
// that is not mounted or does not exist counts as removed.
absl::Status Unpin(sys::Sys& sys, absl::string_view pin);

}  // namespace podsandbox::netns

#endif  // PODSANDBOX_NETNS_PIN_H_
