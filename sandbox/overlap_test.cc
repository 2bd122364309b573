#include "sandbox/overlap.h"

#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sys/testing/status_matchers.h"

namespace podsandbox::sandbox {
namespace {

using ::podsandbox::sys::testing::StatusIs;

// The call blocks until the caller, after the constructor returned, lets
// it go: so the caller went on while the call ran, on another thread.
TEST(OverlapTest, ConcurrentCallRunsBesideTheCaller) {
  absl::Notification go;
  std::thread::id call_thread;
  std::thread::id settle_thread;
  int settled = 0;
  Overlap<absl::StatusOr<int>> overlap(
      /*concurrent=*/true,
      [&go, &call_thread]() -> absl::StatusOr<int> {
        call_thread = std::this_thread::get_id();
        go.WaitForNotification();
        return 7;
      },
      [&](absl::StatusOr<int> outcome) {
        settle_thread = std::this_thread::get_id();
        ++settled;
        return outcome.ok() && *outcome == 7 ? absl::OkStatus()
                                             : absl::InternalError("wrong");
      });
  EXPECT_EQ(settled, 0);
  go.Notify();
  EXPECT_OK(overlap.Join());
  EXPECT_NE(call_thread, std::this_thread::get_id());
  EXPECT_EQ(settle_thread, std::this_thread::get_id());
  EXPECT_EQ(settled, 1);
}

TEST(OverlapTest, SequentialCallRunsInPlaceBeforeTheConstructorReturns) {
  bool ran = false;
  std::thread::id call_thread;
  Overlap<absl::Status> overlap(
      /*concurrent=*/false,
      [&] {
        ran = true;
        call_thread = std::this_thread::get_id();
        return absl::OkStatus();
      },
      [](absl::Status s) { return s; });
  EXPECT_TRUE(ran);
  EXPECT_EQ(call_thread, std::this_thread::get_id());
  EXPECT_OK(overlap.Join());
}

TEST(OverlapTest, JoinSettlesOnceAndRepeatsTheFirstResult) {
  for (bool concurrent : {true, false}) {
    int settled = 0;
    Overlap<absl::Status> overlap(
        concurrent, [] { return absl::UnavailableError("plugin down"); },
        [&settled](absl::Status s) {
          ++settled;
          return s;
        });
    EXPECT_THAT(overlap.Join(), StatusIs(absl::StatusCode::kUnavailable));
    EXPECT_THAT(overlap.Join(), StatusIs(absl::StatusCode::kUnavailable));
    EXPECT_EQ(settled, 1) << concurrent;
  }
}

// A caller that returns early (its own step failed) never joins: the
// destructor waits for the call and settles it, so an attachment made
// meanwhile still gets its undo.
TEST(OverlapTest, DestructorSettlesAnOutcomeNobodyTook) {
  for (bool concurrent : {true, false}) {
    int settled = 0;
    {
      Overlap<absl::StatusOr<int>> overlap(
          concurrent, []() -> absl::StatusOr<int> { return 1; },
          [&settled](absl::StatusOr<int>) {
            ++settled;
            return absl::InternalError("moot");
          });
    }
    EXPECT_EQ(settled, 1) << concurrent;
  }
}

}  // namespace
}  // namespace podsandbox::sandbox
