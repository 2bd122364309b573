// Running code inside a network namespace without moving any of our own
// threads: a fresh thread enters the namespace, runs the function and ends.
// Sockets created there (netlink, for instance) stay bound to that netns.
#ifndef PODSANDBOX_NETNS_IN_NETNS_H_
#define PODSANDBOX_NETNS_IN_NETNS_H_

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "sys/sys.h"

namespace podsandbox::netns {

// Runs `fn` on a new thread whose network namespace is the one `netns_fd`
// refers to, and returns its status. The calling thread blocks meanwhile.
// `fn` must not spawn processes (they would start in the netns).
absl::Status RunInNetns(sys::Sys& sys, int netns_fd,
                        absl::FunctionRef<absl::Status()> fn);

}  // namespace podsandbox::netns

#endif  // PODSANDBOX_NETNS_IN_NETNS_H_
