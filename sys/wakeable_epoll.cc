#include "sys/wakeable_epoll.h"

#include <errno.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>

#include "sys/status.h"

namespace podsandbox::sys {

absl::Status WakeableEpoll::Init() {
  epoll_.reset(::epoll_create1(EPOLL_CLOEXEC));
  if (!epoll_.valid()) return ErrnoError(errno, "epoll_create1");
  wakeup_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wakeup_.valid()) return ErrnoError(errno, "eventfd");
  struct epoll_event ev = {};
  ev.events = EPOLLIN;
  ev.data.fd = wakeup_.get();
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, wakeup_.get(), &ev) != 0) {
    return ErrnoError(errno, "epoll_ctl add eventfd");
  }
  return absl::OkStatus();
}

void WakeableEpoll::Wake() {
  if (!wakeup_.valid()) return;
  uint64_t one = 1;
  // An eventfd write of 1 cannot fail short of a bug (the counter would
  // have to reach 2^64-1).
  (void)!::write(wakeup_.get(), &one, sizeof(one));
}

}  // namespace podsandbox::sys
