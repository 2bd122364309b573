#include "cri/readiness.h"

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace podsandbox::cri {
namespace {

// A check whose result the test sets, which counts its runs and, while
// held, blocks in the run after the first.
class FakeCheck {
 public:
  Readiness::Check Bind() {
    return [this] { return Run(); };
  }
  void Set(absl::Status runtime) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    runtime_ = std::move(runtime);
  }
  void Hold(bool hold) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    hold_ = hold;
  }
  int runs() ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    return runs_;
  }
  // Waits until a run is blocked on Hold; false after a minute.
  bool AwaitBlocked() ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    return mu_.AwaitWithTimeout(absl::Condition(&blocked_), absl::Minutes(1));
  }

 private:
  Readiness::Conditions Run() ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    ++runs_;
    if (hold_ && runs_ > 1) {
      blocked_ = true;
      mu_.Await(absl::Condition(
          +[](bool* hold) { return !*hold; }, &hold_));
      blocked_ = false;
    }
    return {runtime_, absl::OkStatus()};
  }

  absl::Mutex mu_;
  absl::Status runtime_ ABSL_GUARDED_BY(mu_);
  bool hold_ ABSL_GUARDED_BY(mu_) = false;
  bool blocked_ ABSL_GUARDED_BY(mu_) = false;
  int runs_ ABSL_GUARDED_BY(mu_) = 0;
};

TEST(ReadinessTest, FirstCheckRunsBeforeTheConstructorReturns) {
  FakeCheck check;
  check.Set(absl::FailedPreconditionError("no runtime"));
  Readiness readiness(check.Bind(), absl::Hours(1));
  EXPECT_EQ(check.runs(), 1);
  Readiness::Conditions conditions = readiness.Get();
  EXPECT_EQ(conditions.runtime, absl::FailedPreconditionError("no runtime"));
  EXPECT_TRUE(conditions.network.ok());
}

TEST(ReadinessTest, FreshResultIsServedWithoutACheck) {
  FakeCheck check;
  // Nothing in this test takes an hour: no Get finds the result stale.
  Readiness readiness(check.Bind(), absl::Hours(1));
  check.Set(absl::FailedPreconditionError("changed"));
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(readiness.Get().runtime.ok());
  EXPECT_EQ(check.runs(), 1);
}

TEST(ReadinessTest, StaleResultIsRefreshedWithoutWaitingForTheCheck) {
  FakeCheck check;
  check.Hold(true);
  Readiness readiness(check.Bind(), absl::ZeroDuration());
  check.Set(absl::FailedPreconditionError("broken now"));
  EXPECT_TRUE(readiness.Get().runtime.ok());  // stale: wakes the refresher
  ASSERT_TRUE(check.AwaitBlocked());
  // The check hangs; every Get answers with the last result, and the
  // burst does not start a check per Get.
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(readiness.Get().runtime.ok());
  EXPECT_EQ(check.runs(), 2);
  check.Hold(false);
  // Polled: the refresher stores the result after the release.
  const absl::Time deadline = absl::Now() + absl::Minutes(1);
  absl::Status runtime = readiness.Get().runtime;
  while (runtime.ok() && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));  // polling, with a deadline
    runtime = readiness.Get().runtime;
  }
  EXPECT_EQ(runtime, absl::FailedPreconditionError("broken now"));
}

}  // namespace
}  // namespace podsandbox::cri
