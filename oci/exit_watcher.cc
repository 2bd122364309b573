#include "oci/exit_watcher.h"

#include <sys/epoll.h>
#include <sys/wait.h>

#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "sys/status.h"

namespace podsandbox::oci {

ExitWatcher::ExitWatcher(sys::Sys& sys, sys::OrphanReaper* reaper,
                         Callback on_exit)
    : sys_(sys), reaper_(reaper), on_exit_(std::move(on_exit)) {}

ExitWatcher::~ExitWatcher() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_ != nullptr) {
    epoll_.Wake();
    thread_->join();
  }
  absl::MutexLock lock(&mu_);
  for (const auto& [id, entry] : by_id_) {
    if (reaper_ != nullptr && !entry->exited) reaper_->Release(entry->pid);
  }
}

absl::Status ExitWatcher::Start() {
  RETURN_IF_ERROR(epoll_.Init());
  thread_ = std::make_unique<std::thread>([this] { Run(); });
  return absl::OkStatus();
}

absl::Status ExitWatcher::Watch(absl::string_view id, pid_t pid,
                                sys::UniqueFd pidfd, bool notify) {
  auto entry = std::make_shared<Entry>();
  entry->id = std::string(id);
  entry->pid = pid;
  entry->notify = notify;
  int fd = pidfd.get();
  entry->pidfd = std::move(pidfd);
  absl::MutexLock lock(&mu_);
  if (by_id_.contains(id)) {
    return absl::AlreadyExistsError(
        absl::StrCat("watch task ", id, ": already watched"));
  }
  struct epoll_event ev = {};
  ev.events = EPOLLIN;
  ev.data.fd = fd;
  // Registered under the lock, so the watcher thread finds the entry when
  // the event fires.
  if (::epoll_ctl(epoll_.fd(), EPOLL_CTL_ADD, fd, &ev) != 0) {
    return sys::ErrnoError(errno, "epoll_ctl add pidfd of pid %d", pid);
  }
  by_fd_[fd] = entry;
  by_id_[entry->id] = std::move(entry);
  return absl::OkStatus();
}

void ExitWatcher::Notify(absl::string_view id) {
  ProcessExit exit;
  {
    absl::MutexLock lock(&mu_);
    auto it = by_id_.find(id);
    if (it == by_id_.end()) return;
    Entry& entry = *it->second;
    entry.notify = true;
    if (!entry.exited || entry.reported) return;
    entry.reported = true;
    exit = entry.exit;
  }
  on_exit_(exit);
}

bool ExitWatcher::WaitForExit(absl::string_view id, absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto done = [this, &id]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    auto it = by_id_.find(id);
    return it == by_id_.end() || it->second->exited;
  };
  return mu_.AwaitWithTimeout(absl::Condition(&done), timeout);
}

void ExitWatcher::Forget(absl::string_view id) {
  std::shared_ptr<Entry> entry;
  {
    absl::MutexLock lock(&mu_);
    auto it = by_id_.find(id);
    if (it == by_id_.end()) return;
    entry = std::move(it->second);
    by_id_.erase(it);
    if (!entry->exited) {
      by_fd_.erase(entry->pidfd.get());
      // ENOENT would mean it was never added: nothing to undo then.
      (void)::epoll_ctl(epoll_.fd(), EPOLL_CTL_DEL, entry->pidfd.get(),
                        nullptr);
    }
  }
  if (reaper_ != nullptr && !entry->exited) reaper_->Release(entry->pid);
}

bool ExitWatcher::IsWatched(absl::string_view id) {
  absl::MutexLock lock(&mu_);
  return by_id_.contains(id);
}

void ExitWatcher::Run() {
  constexpr int kMaxEvents = 32;
  struct epoll_event events[kMaxEvents];
  for (;;) {
    int n = ::epoll_wait(epoll_.fd(), events, kMaxEvents, -1);
    if (n < 0 && errno != EINTR) return;  // a bad epoll fd: nothing to watch
    for (int i = 0; i < n; ++i) {
      if (epoll_.IsWakeup(events[i].data.fd)) continue;
      HandleExit(events[i].data.fd);
    }
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
  }
}

void ExitWatcher::HandleExit(int fd) {
  std::shared_ptr<Entry> entry;
  {
    absl::MutexLock lock(&mu_);
    auto it = by_fd_.find(fd);
    if (it == by_fd_.end()) return;  // forgotten meanwhile
    entry = it->second;
    by_fd_.erase(it);
    (void)::epoll_ctl(epoll_.fd(), EPOLL_CTL_DEL, fd, nullptr);
  }
  ProcessExit exit;
  exit.id = entry->id;
  exit.pid = entry->pid;
  siginfo_t info = {};
  // The pidfd is readable: the process has exited. Reaping it is ours
  // (ECHILD when it is not our child, after a restart).
  sys::SysResult r =
      sys_.Waitid(P_PIDFD, static_cast<id_t>(fd), &info, WEXITED | WNOHANG);
  if (r.ok() && info.si_pid != 0) {
    exit.status_known = true;
    if (info.si_code == CLD_EXITED) {
      exit.exit_code = info.si_status;
    } else {
      exit.term_signal = info.si_status;
    }
  }
  exit.time = absl::Now();
  if (reaper_ != nullptr) reaper_->Release(entry->pid);
  bool report = false;
  {
    absl::MutexLock lock(&mu_);
    entry->exited = true;
    entry->exit = exit;
    entry->pidfd.reset();
    report = entry->notify && !entry->reported;
    if (report) entry->reported = true;
    // Kept in by_id_ until Forget, so WaitForExit and Notify still find it.
  }
  if (report) on_exit_(exit);
}

}  // namespace podsandbox::oci
