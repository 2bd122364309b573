#include "netns/in_netns.h"

#include <sched.h>

#include <thread>

#include "sys/status.h"

namespace podsandbox::netns {

absl::Status RunInNetns(sys::Sys& sys, int netns_fd,
                        absl::FunctionRef<absl::Status()> fn) {
  absl::Status status;
  // A thread of its own, so no thread of ours is ever left in the wrong
  // namespace: this one ends once fn returns.
  std::thread worker([&] {
    if (sys::SysResult r = sys.Setns(netns_fd, CLONE_NEWNET); !r.ok()) {
      status = sys::ErrnoError(r.err, "setns into network namespace");
      return;
    }
    status = fn();
  });
  worker.join();
  return status;
}

}  // namespace podsandbox::netns
