#include "cri/worker_pool.h"

#include <vector>

#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace podsandbox::cri {
namespace {

using ::testing::ElementsAre;
using ::testing::UnorderedElementsAreArray;

// What the posted work did, in the order it did it.
class Log {
 public:
  void Add(int i) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    entries_.push_back(i);
  }
  std::vector<int> entries() ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    return entries_;
  }

 private:
  absl::Mutex mu_;
  std::vector<int> entries_ ABSL_GUARDED_BY(mu_);
};

TEST(WorkerPoolTest, RunsEveryPostedWorkOnce) {
  Log log;
  std::vector<int> posted;
  {
    WorkerPool pool(2);
    absl::BlockingCounter done(10);
    for (int i = 0; i < 10; ++i) {
      posted.push_back(i);
      pool.Post([&log, &done, i] {
        log.Add(i);
        done.DecrementCount();
      });
    }
    done.Wait();
  }
  // Two workers may interleave, but each item runs exactly once.
  EXPECT_THAT(log.entries(), UnorderedElementsAreArray(posted));
}

TEST(WorkerPoolTest, OneWorkerRunsWorkInPostOrder) {
  Log log;
  {
    WorkerPool pool(1);
    absl::BlockingCounter done(5);
    for (int i = 0; i < 5; ++i) {
      pool.Post([&log, &done, i] {
        log.Add(i);
        done.DecrementCount();
      });
    }
    done.Wait();
  }
  EXPECT_THAT(log.entries(), ElementsAre(0, 1, 2, 3, 4));
}

TEST(WorkerPoolTest, SecondWorkerRunsWhileTheFirstIsBlocked) {
  WorkerPool pool(2);
  absl::Notification first_running;
  absl::Notification release;
  absl::Notification first_done;
  pool.Post([&] {
    first_running.Notify();
    release.WaitForNotification();
    first_done.Notify();
  });
  first_running.WaitForNotification();
  // Only a second worker can run this: the first waits for `release`,
  // which is notified only after this work ran.
  bool first_was_done = true;
  absl::Notification second_ran;
  pool.Post([&] {
    first_was_done = first_done.HasBeenNotified();
    second_ran.Notify();
  });
  second_ran.WaitForNotification();
  EXPECT_FALSE(first_was_done);
  EXPECT_FALSE(first_done.HasBeenNotified());
  release.Notify();
  first_done.WaitForNotification();
}

TEST(WorkerPoolTest, ShutdownRunsQueuedWorkInOrderFirst) {
  Log log;
  {
    WorkerPool pool(1);
    absl::Notification release;
    pool.Post([&] { release.WaitForNotification(); });
    // Queued behind the blocked work when Shutdown starts.
    for (int i = 0; i < 5; ++i) pool.Post([&log, i] { log.Add(i); });
    EXPECT_TRUE(log.entries().empty());
    release.Notify();
    pool.Shutdown();
    EXPECT_THAT(log.entries(), ElementsAre(0, 1, 2, 3, 4));
    pool.Shutdown();  // idempotent: nothing runs twice
    EXPECT_EQ(log.entries().size(), 5u);
  }
  EXPECT_EQ(log.entries().size(), 5u);
}

TEST(WorkerPoolTest, DestructorRunsQueuedWork) {
  Log log;
  {
    WorkerPool pool(1);
    absl::Notification release;
    pool.Post([&] { release.WaitForNotification(); });
    for (int i = 0; i < 3; ++i) pool.Post([&log, i] { log.Add(i); });
    release.Notify();
  }
  EXPECT_THAT(log.entries(), ElementsAre(0, 1, 2));
}

}  // namespace
}  // namespace podsandbox::cri
