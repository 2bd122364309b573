#include "cri/executor.h"

#include <atomic>

#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"

namespace podsandbox::cri {
namespace {

TEST(ExecutorTest, RunsPostedWork) {
  Executor executor(2);
  absl::BlockingCounter done(10);
  for (int i = 0; i < 10; ++i) {
    executor.Post([&done] { done.DecrementCount(); });
  }
  done.Wait();
}

TEST(ExecutorTest, RunsInParallel) {
  Executor executor(2);
  absl::Notification first_running;
  absl::Notification release;
  executor.Post([&] {
    first_running.Notify();
    release.WaitForNotification();
  });
  first_running.WaitForNotification();
  // The second worker runs this while the first is blocked.
  absl::Notification second_ran;
  executor.Post([&] { second_ran.Notify(); });
  second_ran.WaitForNotification();
  release.Notify();
}

TEST(ExecutorTest, ShutdownDrainsQueuedWork) {
  std::atomic<int> ran{0};
  {
    Executor executor(1);
    absl::Notification release;
    executor.Post([&] { release.WaitForNotification(); });
    for (int i = 0; i < 5; ++i) executor.Post([&] { ++ran; });
    release.Notify();
    executor.Shutdown();
    EXPECT_EQ(ran.load(), 5);
    executor.Shutdown();  // idempotent
  }
  EXPECT_EQ(ran.load(), 5);
}

}  // namespace
}  // namespace podsandbox::cri
