// A daemon SIGKILLed between an atomic write's write and its rename, for
// tests of what such a kill leaves behind (a temp file) and of what the
// next start does with it.
#ifndef PODSANDBOX_SYS_TESTING_KILL_AT_RENAME_H_
#define PODSANDBOX_SYS_TESTING_KILL_AT_RENAME_H_

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "sys/sys.h"

namespace podsandbox::sys::testing {

// Runs `write` in a forked child, handing it a Sys that forwards to `real`
// but SIGKILLs the child at its first rename(2). OK when the child died
// that way; FailedPrecondition naming how it ended otherwise (`write`
// never renamed). Call from a single-threaded test: the child only runs
// `write` and exits.
absl::Status KillAtRename(Sys& real, absl::FunctionRef<void(Sys&)> write);

}  // namespace podsandbox::sys::testing

#endif  // PODSANDBOX_SYS_TESTING_KILL_AT_RENAME_H_
