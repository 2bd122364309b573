#include "oci/exit_watcher.h"

#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstdint>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "sys/status.h"

namespace podsandbox::oci {
namespace {

// Debian 12's linux/pidfd.h predates PIDFD_GET_INFO (Linux 6.13) and
// PIDFD_INFO_EXIT (6.15): the kernel uapi's struct, field for field, as of
// 6.16 (72 bytes; the ioctl number encodes the size, and the kernel takes
// any size from PIDFD_INFO_SIZE_VER0 = 64 on, copying what both know).
struct PidfdInfo {
  uint64_t mask;
  uint64_t cgroupid;
  uint32_t pid;
  uint32_t tgid;
  uint32_t ppid;
  uint32_t ruid;
  uint32_t rgid;
  uint32_t euid;
  uint32_t egid;
  uint32_t suid;
  uint32_t sgid;
  uint32_t fsuid;
  uint32_t fsgid;
  int32_t exit_code;  // the wait status
  uint32_t coredump_mask;
  uint32_t spare1;
};
static_assert(sizeof(PidfdInfo) == 72, "struct pidfd_info as of Linux 6.16");
constexpr unsigned long kPidfdGetInfo = _IOWR(0xFF, 11, PidfdInfo);
constexpr uint64_t kPidfdInfoExit = 1ULL << 3;

// How often pending_ is asked again: an adopter (init, systemd) reaps
// within milliseconds.
constexpr absl::Duration kRetryInterval = absl::Milliseconds(5);

void SetStatus(int wait_status, ProcessExit& exit) {
  exit.status_known = true;
  if (WIFSIGNALED(wait_status)) {
    exit.term_signal = WTERMSIG(wait_status);
  } else {
    exit.exit_code = WEXITSTATUS(wait_status);
  }
}

}  // namespace

absl::StatusOr<int> PidfdExitStatus(int pidfd) {
  PidfdInfo info = {};
  info.mask = kPidfdInfoExit;
  // A query with no side effect: not through sys::Sys.
  if (::ioctl(pidfd, kPidfdGetInfo, &info) != 0) {
    if (errno == ENOTTY || errno == EINVAL) {
      return absl::UnimplementedError(
          "PIDFD_GET_INFO: not supported by this kernel");
    }
    if (errno == ESRCH) {
      // Gone, with no exit info kept (it exited before the kernel kept
      // any, or was reaped as a zombie we did not pin).
      return absl::FailedPreconditionError("PIDFD_GET_INFO: no exit info");
    }
    return sys::ErrnoError(errno, "ioctl PIDFD_GET_INFO");
  }
  if ((info.mask & kPidfdInfoExit) == 0) {
    return absl::FailedPreconditionError(
        "PIDFD_GET_INFO: not exited or not yet reaped");
  }
  return info.exit_code;
}

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
    entry->forgotten = true;
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
    int timeout =
        pending_.empty()
            ? -1
            : static_cast<int>(absl::ToInt64Milliseconds(kRetryInterval));
    int n = ::epoll_wait(epoll_.fd(), events, kMaxEvents, timeout);
    if (n < 0 && errno != EINTR) return;  // a bad epoll fd: nothing to watch
    for (int i = 0; i < n; ++i) {
      if (epoll_.IsWakeup(events[i].data.fd)) continue;
      HandleExit(events[i].data.fd);
    }
    RetryPending();
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
  // (ECHILD when it is not our child, after a restart: then the pidfd has
  // its status once its adopter reaped it).
  sys::SysResult r =
      sys_.Waitid(P_PIDFD, static_cast<id_t>(fd), &info, WEXITED | WNOHANG);
  if (r.ok() && info.si_pid != 0) {
    exit.status_known = true;
    if (info.si_code == CLD_EXITED) {
      exit.exit_code = info.si_status;
    } else {
      exit.term_signal = info.si_status;
    }
  } else if (!r.ok() && r.err == ECHILD) {
    absl::StatusOr<int> status = PidfdExitStatus(fd);
    if (status.ok()) {
      SetStatus(*status, exit);
    } else if (absl::IsFailedPrecondition(status.status())) {
      entry->reap_deadline = absl::Now() + kReapWait;
      pending_.push_back(std::move(entry));
      return;
    }
  }
  Finish(entry, exit);
}

void ExitWatcher::RetryPending() {
  if (pending_.empty()) return;
  std::vector<std::shared_ptr<Entry>> still;
  for (std::shared_ptr<Entry>& entry : pending_) {
    ProcessExit exit;
    exit.id = entry->id;
    exit.pid = entry->pid;
    absl::StatusOr<int> status = PidfdExitStatus(entry->pidfd.get());
    if (status.ok()) {
      SetStatus(*status, exit);
    } else if (absl::IsFailedPrecondition(status.status()) &&
               absl::Now() < entry->reap_deadline) {
      still.push_back(std::move(entry));
      continue;
    }
    Finish(entry, exit);
  }
  pending_ = std::move(still);
}

void ExitWatcher::Finish(const std::shared_ptr<Entry>& entry,
                         ProcessExit exit) {
  exit.time = absl::Now();
  if (reaper_ != nullptr) reaper_->Release(entry->pid);
  bool report = false;
  {
    absl::MutexLock lock(&mu_);
    entry->exited = true;
    entry->exit = exit;
    entry->pidfd.reset();
    report = entry->notify && !entry->reported && !entry->forgotten;
    if (report) entry->reported = true;
    // Kept in by_id_ until Forget, so WaitForExit and Notify still find it.
  }
  if (report) on_exit_(exit);
}

}  // namespace podsandbox::oci
