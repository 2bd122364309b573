// Watches the processes OCI runtimes leave behind (a pod's pause, a
// container's init) through pidfds, with one thread for all of them (no
// monitor process per task): when one exits, the watcher reaps it (the
// daemon is a child subreaper, so each is its child once the runtime's
// create returns), releases its claim in the OrphanReaper, and reports the
// exit to a callback, within milliseconds.
//
// A process re-attached after a daemon restart is no longer our child (it
// was re-parented when the old daemon died): waitid says ECHILD, and the
// status comes from the pidfd instead (PIDFD_GET_INFO with PIDFD_INFO_EXIT,
// Linux >= 6.15), which the kernel fills in when whoever adopted the
// process reaped it. Until then the exit waits (polled every few ms on the
// watcher thread, up to kReapWait); past that, or on an older kernel, its
// status is unknown.
//
// Thread-safe. The callback runs on the watcher thread with no lock held;
// it must not block for long, and must not call WaitForExit.
#ifndef PODSANDBOX_OCI_EXIT_WATCHER_H_
#define PODSANDBOX_OCI_EXIT_WATCHER_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "sys/orphan_reaper.h"
#include "sys/sys.h"
#include "sys/unique_fd.h"
#include "sys/wakeable_epoll.h"

namespace podsandbox::oci {

// The wait status (as waitpid(2) gives it) of the process `pidfd` refers
// to, from PIDFD_GET_INFO with PIDFD_INFO_EXIT: works for any process,
// child or not, once it has been reaped, provided the pidfd was open when
// it exited. FailedPrecondition while it runs or is not yet reaped;
// Unimplemented when the kernel has no PIDFD_INFO_EXIT (< 6.15); Internal
// else. Thread-safe.
absl::StatusOr<int> PidfdExitStatus(int pidfd);

// How long an exited process that is not our child may stay unreaped by
// its adopter before its status is given up as unknown.
inline constexpr absl::Duration kReapWait = absl::Seconds(10);

struct ProcessExit {
  std::string id;
  pid_t pid = 0;
  // False when it was not our child (re-attached after a restart) and its
  // pidfd could not tell either (see above).
  bool status_known = false;
  int exit_code = -1;   // when it exited
  int term_signal = 0;  // when a signal ended it
  absl::Time time;      // when the watcher saw it
};

class ExitWatcher {
 public:
  using Callback = absl::AnyInvocable<void(const ProcessExit&)>;

  // `reaper` may be null (no subreaper: exits are still seen, statuses
  // are not). Both must outlive the watcher.
  ExitWatcher(sys::Sys& sys, sys::OrphanReaper* reaper, Callback on_exit);
  ~ExitWatcher();  // stops the thread; watched processes are left alone
  ExitWatcher(const ExitWatcher&) = delete;
  ExitWatcher& operator=(const ExitWatcher&) = delete;

  // Starts the watcher thread. Internal if epoll or eventfd fail.
  absl::Status Start();

  // Watches process `pid` of task `id` through `pidfd` (owned from
  // now on). With `notify` false the exit is reaped but not reported until
  // Notify(id). AlreadyExists if `id` is watched.
  absl::Status Watch(absl::string_view id, pid_t pid, sys::UniqueFd pidfd,
                     bool notify) ABSL_LOCKS_EXCLUDED(mu_);

  // Reports `id`'s exit from now on; if it already exited unreported, the
  // callback runs now, on this thread.
  void Notify(absl::string_view id) ABSL_LOCKS_EXCLUDED(mu_);

  // Waits until `id`'s process has exited and been reaped. True if it has
  // (or `id` is not watched), false if `timeout` passed first.
  bool WaitForExit(absl::string_view id, absl::Duration timeout)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Stops watching `id` without reporting; a live process is left to the
  // OrphanReaper. No-op if not watched.
  void Forget(absl::string_view id) ABSL_LOCKS_EXCLUDED(mu_);

  bool IsWatched(absl::string_view id) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Entry {
    std::string id;
    pid_t pid = 0;
    sys::UniqueFd pidfd;
    bool notify = false;
    bool exited = false;
    bool reported = false;
    bool forgotten = false;
    ProcessExit exit;
    // Not our child and not yet reaped by its adopter: asked again until.
    absl::Time reap_deadline;
  };

  void Run();
  void HandleExit(int fd) ABSL_LOCKS_EXCLUDED(mu_);
  // Asks the pidfds in pending_ again; finishes those answered or late.
  void RetryPending() ABSL_LOCKS_EXCLUDED(mu_);
  // Records `exit` as `entry`'s and reports it (unless forgotten).
  void Finish(const std::shared_ptr<Entry>& entry, ProcessExit exit)
      ABSL_LOCKS_EXCLUDED(mu_);

  sys::Sys& sys_;
  sys::OrphanReaper* const reaper_;
  Callback on_exit_;
  sys::WakeableEpoll epoll_;  // woken to stop
  std::unique_ptr<std::thread> thread_;

  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  absl::flat_hash_map<std::string, std::shared_ptr<Entry>> by_id_
      ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<int, std::shared_ptr<Entry>> by_fd_ ABSL_GUARDED_BY(mu_);
  // Watcher thread only.
  std::vector<std::shared_ptr<Entry>> pending_;
};

}  // namespace podsandbox::oci

#endif  // PODSANDBOX_OCI_EXIT_WATCHER_H_
