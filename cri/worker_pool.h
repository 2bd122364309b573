// A fixed pool of worker threads that runs the RPC work podsandboxd posts.
//
// gRPC's callback threads must never block (a blocked one stalls every RPC
// on its completion queue), while RunPodSandbox blocks for as long as CNI
// plugins and the OCI runtime take. So handlers validate inline and Post
// the rest here; the worker calls Finish on the reactor.
//
// Work posted before Shutdown always runs: a RunPodSandbox whose client
// gave up is still carried to READY or rolled back. Posting after Shutdown
// is a programmer error (the server is shut down first).
//
// Thread-safe.
#ifndef PODSANDBOX_CRI_WORKER_POOL_H_
#define PODSANDBOX_CRI_WORKER_POOL_H_

#include <deque>
#include <thread>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/synchronization/mutex.h"

namespace podsandbox::cri {

class WorkerPool {
 public:
  // Starts `threads` workers (at least 1).
  explicit WorkerPool(int threads);
  // Shutdown, then join.
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues `work` for a worker.
  void Post(absl::AnyInvocable<void() &&> work) ABSL_LOCKS_EXCLUDED(mu_);

  // Runs everything already queued, then stops the workers and joins them.
  // Idempotent.
  void Shutdown() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  void Work() ABSL_LOCKS_EXCLUDED(mu_);

  absl::Mutex mu_;
  std::deque<absl::AnyInvocable<void() &&>> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace podsandbox::cri

#endif  // PODSANDBOX_CRI_WORKER_POOL_H_
