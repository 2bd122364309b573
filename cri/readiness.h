// The RuntimeReady and NetworkReady conditions of the CRI Status, kept
// fresh off the RPC path.
//
// Checking them runs programs (the runtime's `--version`, CNI plugins'
// VERSION and STATUS) that can block for their whole timeout, while Status
// must answer at once even then: kubelet marks the node NotReady when
// Status stalls. So Get() returns the last result, and a result older than
// the TTL wakes a refresher thread that checks again; no caller ever waits
// for a check. The constructor makes the first check on the calling thread,
// so the first Status already reports a real result, not a guess.
//
// A value is therefore at most one check old: with kubelet polling every
// few seconds and a TTL of a few seconds, a broken runtime shows within two
// polls, and an idle daemon runs no checks at all.
//
// Thread-safe.
#ifndef PODSANDBOX_CRI_READINESS_H_
#define PODSANDBOX_CRI_READINESS_H_

#include <thread>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace podsandbox::cri {

class Readiness {
 public:
  struct Conditions {
    absl::Status runtime;  // RuntimeReady: OK, or why not
    absl::Status network;  // NetworkReady: OK, or why not
  };
  // Computes fresh conditions; may block. Runs on the constructing thread
  // once, then on the refresher thread only.
  using Check = absl::AnyInvocable<Conditions()>;

  // Runs `check` once, then starts the refresher. `ttl` may be zero (every
  // Get asks for a new check).
  Readiness(Check check, absl::Duration ttl);
  // Stops the refresher, waiting for a check in progress (it uses what
  // `check` captured).
  ~Readiness();
  Readiness(const Readiness&) = delete;
  Readiness& operator=(const Readiness&) = delete;

  // The latest conditions, without waiting. When they are older than the
  // TTL and no check is running, wakes the refresher.
  Conditions Get() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  void Refresh() ABSL_LOCKS_EXCLUDED(mu_);

  Check check_;
  const absl::Duration ttl_;

  absl::Mutex mu_;
  Conditions current_ ABSL_GUARDED_BY(mu_);
  absl::Time checked_at_ ABSL_GUARDED_BY(mu_);
  bool refresh_wanted_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread refresher_;
};

}  // namespace podsandbox::cri

#endif  // PODSANDBOX_CRI_READINESS_H_
