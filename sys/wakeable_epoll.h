// An epoll instance holding an eventfd that another thread writes to wake
// its waiter: how a loop thread blocked in epoll_wait(2) (the container log
// relay, the OCI exit watcher) is told to stop. The eventfd is never read,
// so once woken every later epoll_wait returns it at once (epoll is
// level-triggered): Wake is for stopping, not for one-off nudges.
//
// Thread-safety: Init before sharing; then fd(), IsWakeup and Wake from
// any thread.
#ifndef PODSANDBOX_SYS_WAKEABLE_EPOLL_H_
#define PODSANDBOX_SYS_WAKEABLE_EPOLL_H_

#include "absl/status/status.h"
#include "sys/unique_fd.h"

namespace podsandbox::sys {

class WakeableEpoll {
 public:
  // Creates the epoll instance and the eventfd in it (both close-on-exec).
  // Internal if epoll_create1 or eventfd fail.
  absl::Status Init();

  // The epoll fd, for epoll_ctl and epoll_wait; -1 before Init.
  int fd() const { return epoll_.get(); }

  // Whether an event's fd is the wake-up eventfd.
  bool IsWakeup(int fd) const { return fd == wakeup_.get(); }

  // Makes every epoll_wait on fd(), now and later, return. No-op before
  // Init.
  void Wake();

 private:
  UniqueFd epoll_;
  UniqueFd wakeup_;
};

}  // namespace podsandbox::sys

#endif  // PODSANDBOX_SYS_WAKEABLE_EPOLL_H_
