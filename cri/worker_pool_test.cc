#include "cri/worker_pool.h"

#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace podsandbox::cri {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAreArray;

// A queue bound none of the tests but the bound's own reaches.
constexpr int kRoomy = 100;

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
    WorkerPool pool(2, kRoomy, "limits.test_queue");
    absl::BlockingCounter done(10);
    for (int i = 0; i < 10; ++i) {
      posted.push_back(i);
      EXPECT_TRUE(pool.Post([&log, &done, i] {
                        log.Add(i);
                        done.DecrementCount();
                      })
                      .ok());
    }
    done.Wait();
  }
  // Two workers may interleave, but each item runs exactly once.
  EXPECT_THAT(log.entries(), UnorderedElementsAreArray(posted));
}

TEST(WorkerPoolTest, OneWorkerRunsWorkInPostOrder) {
  Log log;
  {
    WorkerPool pool(1, kRoomy, "limits.test_queue");
    absl::BlockingCounter done(5);
    for (int i = 0; i < 5; ++i) {
      EXPECT_TRUE(pool.Post([&log, &done, i] {
                        log.Add(i);
                        done.DecrementCount();
                      })
                      .ok());
    }
    done.Wait();
  }
  EXPECT_THAT(log.entries(), ElementsAre(0, 1, 2, 3, 4));
}

TEST(WorkerPoolTest, SecondWorkerRunsWhileTheFirstIsBlocked) {
  WorkerPool pool(2, kRoomy, "limits.test_queue");
  absl::Notification first_running;
  absl::Notification release;
  absl::Notification first_done;
  EXPECT_TRUE(pool.Post([&] {
                    first_running.Notify();
                    release.WaitForNotification();
                    first_done.Notify();
                  })
                  .ok());
  first_running.WaitForNotification();
  // Only a second worker can run this: the first waits for `release`,
  // which is notified only after this work ran.
  bool first_was_done = true;
  absl::Notification second_ran;
  EXPECT_TRUE(pool.Post([&] {
                    first_was_done = first_done.HasBeenNotified();
                    second_ran.Notify();
                  })
                  .ok());
  second_ran.WaitForNotification();
  EXPECT_FALSE(first_was_done);
  EXPECT_FALSE(first_done.HasBeenNotified());
  release.Notify();
  first_done.WaitForNotification();
}

TEST(WorkerPoolTest, ShutdownRunsQueuedWorkInOrderFirst) {
  Log log;
  {
    WorkerPool pool(1, kRoomy, "limits.test_queue");
    absl::Notification release;
    EXPECT_TRUE(pool.Post([&] { release.WaitForNotification(); }).ok());
    // Queued behind the blocked work when Shutdown starts.
    for (int i = 0; i < 5; ++i)
      EXPECT_TRUE(pool.Post([&log, i] { log.Add(i); }).ok());
    EXPECT_TRUE(log.entries().empty());
    release.Notify();
    pool.Shutdown();
    EXPECT_THAT(log.entries(), ElementsAre(0, 1, 2, 3, 4));
    pool.Shutdown();  // idempotent: nothing runs twice
    EXPECT_EQ(log.entries().size(), 5u);
  }
  EXPECT_EQ(log.entries().size(), 5u);
}

TEST(WorkerPoolTest, RefusesPastTheQueueBoundAndRunsWhatItAccepted) {
  constexpr int kMaxQueued = 3;
  Log log;
  WorkerPool pool(1, kMaxQueued, "limits.test_queue");
  absl::Notification running;
  absl::Notification latch;
  // The one worker takes this and blocks, so it no longer counts as queued.
  EXPECT_TRUE(pool.Post([&] {
                    running.Notify();
                    latch.WaitForNotification();
                  })
                  .ok());
  running.WaitForNotification();
  absl::BlockingCounter queued_done(kMaxQueued);
  for (int i = 0; i < kMaxQueued; ++i) {
    absl::Status s = pool.Post([&log, &queued_done, i] {
      log.Add(i);
      queued_done.DecrementCount();
    });
    EXPECT_TRUE(s.ok()) << s;
    if (!s.ok()) queued_done.DecrementCount();  // or Wait would never end
  }
  // One more is refused at once, naming the bound's key, and never runs.
  bool refused_ran = false;
  absl::Status refused = pool.Post([&refused_ran] { refused_ran = true; });
  EXPECT_TRUE(absl::IsResourceExhausted(refused)) << refused;
  EXPECT_THAT(refused.message(),
              HasSubstr("podsandboxd is saturated: 3 calls queued"));
  EXPECT_THAT(refused.message(), HasSubstr("(limits.test_queue)"));
  EXPECT_TRUE(log.entries().empty());

  latch.Notify();
  queued_done.Wait();
  // The queue has drained: the bound refuses only while it is full.
  EXPECT_TRUE(pool.Post([&log] { log.Add(kMaxQueued); }).ok());
  pool.Shutdown();
  EXPECT_FALSE(refused_ran);
  EXPECT_THAT(log.entries(), ElementsAre(0, 1, 2, 3));
}

TEST(WorkerPoolTest, DestructorRunsQueuedWork) {
  Log log;
  {
    WorkerPool pool(1, kRoomy, "limits.test_queue");
    absl::Notification release;
    EXPECT_TRUE(pool.Post([&] { release.WaitForNotification(); }).ok());
    for (int i = 0; i < 3; ++i)
      EXPECT_TRUE(pool.Post([&log, i] { log.Add(i); }).ok());
    release.Notify();
  }
  EXPECT_THAT(log.entries(), ElementsAre(0, 1, 2));
}

}  // namespace
}  // namespace podsandbox::cri
