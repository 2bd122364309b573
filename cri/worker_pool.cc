#include "cri/worker_pool.h"

#include <algorithm>
#include <string>
#include <thread>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "sys/log.h"

namespace podsandbox::cri {

WorkerPool::WorkerPool(int threads, int max_queued, std::string limit_key)
    : max_queued_(std::max(max_queued, 1)), limit_key_(std::move(limit_key)) {
  threads = std::max(threads, 1);
  threads_.reserve(threads);
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Work(); });
}

WorkerPool::~WorkerPool() { Shutdown(); }

absl::Status WorkerPool::Post(absl::AnyInvocable<void() &&> work) {
  absl::MutexLock lock(&mu_);
  PSB_CHECK(!stopping_);
  // Only waiting items count: the running ones are bounded by the threads.
  if (queue_.size() >= max_queued_) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "podsandboxd is saturated: ", queue_.size(),
        " calls queued for its workers (", limit_key_, "); retry later"));
  }
  queue_.push_back(std::move(work));
  return absl::OkStatus();
}

void WorkerPool::Shutdown() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  for (std::thread& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
}

void WorkerPool::Work() {
  while (true) {
    absl::AnyInvocable<void() &&> work;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || !queue_.empty();
      };
      mu_.Await(absl::Condition(&ready));
      // Drain before stopping: queued work is an accepted RPC.
      if (queue_.empty()) return;
      work = std::move(queue_.front());
      queue_.pop_front();
    }
    std::move(work)();
  }
}

}  // namespace podsandbox::cri
