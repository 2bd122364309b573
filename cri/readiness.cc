#include "cri/readiness.h"

#include <utility>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"

namespace podsandbox::cri {

Readiness::Readiness(Check check, absl::Duration ttl)
    : check_(std::move(check)), ttl_(ttl) {
  Conditions first = check_();
  {
    absl::MutexLock lock(&mu_);
    current_ = std::move(first);
    checked_at_ = absl::Now();
  }
  refresher_ = std::thread([this] { Refresh(); });
}

Readiness::~Readiness() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  refresher_.join();
}

Readiness::Conditions Readiness::Get() {
  absl::MutexLock lock(&mu_);
  // refresh_wanted_ stays set while a check runs, so a burst of Status
  // calls starts one check, not one each.
  if (!refresh_wanted_ && absl::Now() - checked_at_ >= ttl_) {
    refresh_wanted_ = true;
  }
  return current_;
}

void Readiness::Refresh() {
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      auto woken = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || refresh_wanted_;
      };
      mu_.Await(absl::Condition(&woken));
      if (stopping_) return;
    }
    // No lock here: Get keeps answering with the old value meanwhile.
    Conditions fresh = check_();
    absl::MutexLock lock(&mu_);
    current_ = std::move(fresh);
    checked_at_ = absl::Now();
    refresh_wanted_ = false;
  }
}

}  // namespace podsandbox::cri
