#include "sys/orphan_reaper.h"

#include <sys/prctl.h>
#include <sys/wait.h>

#include <vector>

#include "sys/proc.h"
#include "sys/status.h"

namespace podsandbox::sys {

OrphanReaper::OrphanReaper(Sys& sys, absl::Duration interval)
    : sys_(sys), interval_(interval) {}

OrphanReaper::~OrphanReaper() {
  stop_.Notify();
  if (thread_ != nullptr) thread_->join();
}

absl::Status OrphanReaper::Start() {
  if (SysResult r = sys_.Prctl(PR_SET_CHILD_SUBREAPER, 1); !r.ok()) {
    return ErrnoError(r.err, "prctl PR_SET_CHILD_SUBREAPER");
  }
  thread_ = std::make_unique<std::thread>([this] {
    while (!stop_.WaitForNotificationWithTimeout(interval_)) ScanOnce();
  });
  return absl::OkStatus();
}

void OrphanReaper::Claim(pid_t pid) {
  absl::MutexLock lock(&mu_);
  claimed_.insert(pid);
}

void OrphanReaper::Release(pid_t pid) {
  absl::MutexLock lock(&mu_);
  claimed_.erase(pid);
}

void OrphanReaper::ScanOnce() {
  absl::StatusOr<std::vector<pid_t>> children = ListChildren();
  if (!children.ok()) return;  // try again next interval
  absl::flat_hash_set<pid_t> zombies;
  for (pid_t pid : *children) {
    absl::StatusOr<ProcStat> stat = ReadProcStat(pid);
    if (stat.ok() && stat->state == 'Z') zombies.insert(pid);
  }
  std::vector<pid_t> to_reap;
  {
    absl::MutexLock lock(&mu_);
    absl::flat_hash_set<pid_t> unclaimed;
    for (pid_t pid : zombies) {
      if (claimed_.contains(pid)) continue;
      if (seen_zombies_.contains(pid)) {
        to_reap.push_back(pid);
      } else {
        unclaimed.insert(pid);
      }
    }
    seen_zombies_ = std::move(unclaimed);
  }
  for (pid_t pid : to_reap) {
    siginfo_t info = {};
    // WNOHANG: it is a zombie, so this never blocks; ECHILD means its owner
    // reaped it meanwhile.
    (void)sys_.Waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG);
  }
}

}  // namespace podsandbox::sys
