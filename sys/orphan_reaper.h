// Makes this process a child subreaper and reaps the orphans it adopts that
// nobody else waits for.
//
// As a subreaper, the daemon adopts each pause process when the OCI runtime
// that started it exits, so it can watch and reap it without a monitor
// process per pod. It also adopts whatever else is orphaned below it (the
// leftovers of a killed CNI plugin's process group), and those must be
// reaped or they stay zombies.
//
// The reaper must never reap a child someone is waiting for. Owners of
// long-lived children (the pause supervisor) Claim them. Short-lived
// children (RunSubprocess, the namespace helper) are reaped by their spawner
// as soon as they exit, so the reaper leaves any zombie alone until it has
// seen it unclaimed in two consecutive scans, an interval apart.
//
// Thread-safe.
#ifndef PODSANDBOX_SYS_ORPHAN_REAPER_H_
#define PODSANDBOX_SYS_ORPHAN_REAPER_H_

#include <sys/types.h>

#include <memory>
#include <thread>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "sys/sys.h"

namespace podsandbox::sys {

class OrphanReaper {
 public:
  explicit OrphanReaper(Sys& sys, absl::Duration interval = absl::Seconds(1));
  ~OrphanReaper();  // stops the scanning thread

  // Sets PR_SET_CHILD_SUBREAPER and starts scanning. Internal on failure.
  absl::Status Start();

  // While claimed, `pid` is never reaped here.
  void Claim(pid_t pid) ABSL_LOCKS_EXCLUDED(mu_);
  void Release(pid_t pid) ABSL_LOCKS_EXCLUDED(mu_);

  // One scan, as the thread makes each interval. For tests.
  void ScanOnce() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  Sys& sys_;
  const absl::Duration interval_;
  absl::Notification stop_;
  std::unique_ptr<std::thread> thread_;

  absl::Mutex mu_;
  absl::flat_hash_set<pid_t> claimed_ ABSL_GUARDED_BY(mu_);
  // Unclaimed zombies seen in the previous scan.
  absl::flat_hash_set<pid_t> seen_zombies_ ABSL_GUARDED_BY(mu_);
};

}  // namespace podsandbox::sys

#endif  // PODSANDBOX_SYS_ORPHAN_REAPER_H_
