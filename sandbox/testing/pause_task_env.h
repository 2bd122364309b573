// A PauseTask on real runtimes, set up as the privileged pause tests and
// the pause benchmark all need it: the shared pause rootfs under a
// directory, a started OrphanReaper (the daemon is each pause's
// subreaper), and a started task that records every exit it reports.
//
// Not a gtest fixture, so the benchmark uses it too; a test fixture holds
// one, calls PrepareRootfs before its leak snapshot (the rootfs outlives
// each test) and Start after it.
//
// Thread-safe as PauseTask is; Exits may be called from any thread.
#ifndef PODSANDBOX_SANDBOX_TESTING_PAUSE_TASK_ENV_H_
#define PODSANDBOX_SANDBOX_TESTING_PAUSE_TASK_ENV_H_

#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "oci/exit_watcher.h"
#include "oci/task_spec.h"
#include "sandbox/pause_task.h"
#include "sys/orphan_reaper.h"
#include "sys/sys.h"

namespace podsandbox::sandbox::testing {

// Where the pause binary is in a test's or benchmark's runfiles.
inline constexpr char kPauseBinary[] = "sandbox/pause/pause";

class PauseTaskEnv {
 public:
  // `dir`: absolute, and reachable by the pods' root (not under a 0700
  // directory); the rootfs goes to <dir>/rootfs. `task_sys` is the task's
  // Sys (a FaultySys, say); null means `sys`. Both outlive this.
  PauseTaskEnv(sys::Sys& sys, std::string dir, sys::Sys* task_sys = nullptr,
               absl::Duration reaper_interval = absl::Milliseconds(100));

  // Creates `dir` if missing and builds the pause rootfs in it.
  absl::Status PrepareRootfs();
  // Starts the reaper, then the task's exit watcher.
  absl::Status Start();

  PauseTask& task() { return task_; }
  sys::OrphanReaper& reaper() { return reaper_; }
  const std::string& rootfs() const { return rootfs_; }

  // Waits until `n` exits were reported or `timeout` passed; returns every
  // exit reported so far.
  std::vector<oci::ProcessExit> Exits(size_t n, absl::Duration timeout)
      ABSL_LOCKS_EXCLUDED(mu_);

  // A host-network pod without a user namespace: sandbox `id`, pod `name`
  // in namespace "default" with uid "uid-1", hostname `name`.
  static oci::TaskSpec Spec(absl::string_view id, absl::string_view name);

 private:
  sys::Sys& sys_;
  const std::string dir_;
  const std::string rootfs_;
  sys::OrphanReaper reaper_;
  absl::Mutex mu_;
  std::vector<oci::ProcessExit> exits_ ABSL_GUARDED_BY(mu_);
  PauseTask task_;
};

}  // namespace podsandbox::sandbox::testing

#endif  // PODSANDBOX_SANDBOX_TESTING_PAUSE_TASK_ENV_H_
