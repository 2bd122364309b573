#include "sandbox/cleanup_stack.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "metrics/registry.h"
#include "sys/testing/status_matchers.h"

namespace podsandbox::sandbox {
namespace {

using ::podsandbox::sys::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

class CleanupStackTest : public ::testing::Test {
 protected:
  CleanupStack::Undo Record(std::string name,
                            absl::Status result = absl::OkStatus()) {
    return [this, name, result] {
      ran_.push_back(name);
      return result;
    };
  }
  std::vector<std::string> ran_;
};

TEST_F(CleanupStackTest, UnwindsNewestFirstAndReturnsTheOriginalError) {
  CleanupStack stack("pod 1");
  stack.Push("a", Record("a"));
  stack.Push("b", Record("b"));
  stack.Push("c", Record("c"));
  EXPECT_THAT(stack.Unwind(absl::UnavailableError("cni add failed")),
              StatusIs(absl::StatusCode::kUnavailable, "cni add failed"));
  EXPECT_THAT(ran_, ElementsAre("c", "b", "a"));
  EXPECT_EQ(stack.size(), 0u);
  EXPECT_EQ(stack.undo_failures(), 0u);
}

TEST_F(CleanupStackTest, ContinuesPastFailingUndoAndAttachesItsError) {
  CleanupStack stack("pod 1");
  stack.Push("unpin netns", Record("unpin netns"));
  stack.Push("cni del",
             Record("cni del", absl::InternalError("plugin crashed")));
  stack.Push("runtime delete", Record("runtime delete"));
  absl::Status s = stack.Unwind(absl::DeadlineExceededError("runtime start"));
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kDeadlineExceeded,
                          "runtime start; rollback of cni del failed: "
                          "INTERNAL: plugin crashed"));
  EXPECT_THAT(ran_, ElementsAre("runtime delete", "cni del", "unpin netns"));
  EXPECT_EQ(stack.undo_failures(), 1u);
}

TEST_F(CleanupStackTest, CommitDisarms) {
  {
    CleanupStack stack("pod 1");
    stack.Push("a", Record("a"));
    std::move(stack).Commit();
  }
  EXPECT_THAT(ran_, IsEmpty());
}

TEST_F(CleanupStackTest, DestructorUnwindsAnArmedStack) {
  {
    CleanupStack stack("pod 1");
    stack.Push("a", Record("a"));
    stack.Push("b", Record("b", absl::InternalError("x")));
  }
  EXPECT_THAT(ran_, ElementsAre("b", "a"));
}

TEST_F(CleanupStackTest, UnwindRunsEachUndoOnce) {
  CleanupStack stack("pod 1");
  stack.Push("a", Record("a"));
  (void)stack.Unwind(absl::InternalError("x"));
  (void)stack.Unwind(absl::InternalError("y"));
  EXPECT_THAT(ran_, ElementsAre("a"));
}

TEST_F(CleanupStackTest, CountsEachUndoRunByStepAndOutcome) {
  metrics::CounterFamily& steps = metrics::DefaultRegistry().Counter(
      "podsandbox_rollback_steps_total", "", {"step", "outcome"});
  const double ok_before = steps.Value({"metrics a", "ok"});
  const double failed_before = steps.Value({"metrics b", "failed"});
  {
    CleanupStack stack("pod 1");
    stack.Push("metrics a", Record("a"));
    stack.Push("metrics b", Record("b", absl::InternalError("busy")));
    stack.Unwind(absl::UnavailableError("x")).IgnoreError();  // counted below
  }
  {
    CleanupStack committed("pod 2");
    committed.Push("metrics a", Record("a"));
    std::move(committed).Commit();  // no rollback: nothing counted
  }
  EXPECT_EQ(steps.Value({"metrics a", "ok"}), ok_before + 1);
  EXPECT_EQ(steps.Value({"metrics b", "failed"}), failed_before + 1);
}

}  // namespace
}  // namespace podsandbox::sandbox
