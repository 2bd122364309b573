// A fixed pool of worker threads that runs the RPC work podsandboxd posts.
//
// gRPC's callback threads must never block (a blocked one stalls every RPC
// on its completion queue), while RunPodSandbox blocks for as long as CNI
// plugins and the OCI runtime take. So handlers validate inline and Post
// the rest here; the worker calls Finish on the reactor.
//
// The queue is bounded: each queued item holds an accepted gRPC call (its
// request, response and the call's buffers), so a client that sends calls
// faster than the workers finish them would otherwise grow the daemon
// without limit. Past the bound Post refuses at once with
// ResourceExhausted naming the configuration key that sets it, and the
// handler answers the call with that (kubelet retries).
//
// Work posted before Shutdown always runs: a RunPodSandbox whose client
// gave up is still carried to READY or rolled back. Posting after Shutdown
// is a programmer error (the server is shut down first).
//
// Thread-safe.
#ifndef PODSANDBOX_CRI_WORKER_POOL_H_
#define PODSANDBOX_CRI_WORKER_POOL_H_

#include <deque>
#include <string>
#include <thread>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"

namespace podsandbox::cri {

class WorkerPool {
 public:
  // Starts `threads` workers (at least 1). At most `max_queued` items (at
  // least 1) wait for a worker at once, besides those running;
  // `limit_key` names the setting of `max_queued` in refusals
  // ("limits.stop_remove_queue").
  WorkerPool(int threads, int max_queued, std::string limit_key);
  // Shutdown, then join.
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues `work` for a worker. ResourceExhausted, with `work` destroyed
  // unrun, when `max_queued` items already wait: the caller answers its
  // RPC with that status.
  absl::Status Post(absl::AnyInvocable<void() &&> work)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Runs everything already queued, then stops the workers and joins them.
  // Idempotent.
  void Shutdown() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  void Work() ABSL_LOCKS_EXCLUDED(mu_);

  const size_t max_queued_;
  const std::string limit_key_;
  absl::Mutex mu_;
  std::deque<absl::AnyInvocable<void() &&>> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace podsandbox::cri

#endif  // PODSANDBOX_CRI_WORKER_POOL_H_
