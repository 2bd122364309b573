// PauseTask's own logic without root, over a fake runtime whose containers
// are plain child processes (oci/testing/fake_oci_runtime.h): the order of
// the runtime's verbs, supervision, and that every failure is undone. The
// runtimes themselves are pause_task_privileged_test's.
#include "sandbox/pause_task.h"

#include <signal.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "oci/testing/fake_oci_runtime.h"
#include "sys/real_sys.h"
#include "sys/testing/status_matchers.h"
#include "sys/testing/temp_dir.h"

namespace podsandbox::sandbox {
namespace {

using ::podsandbox::sys::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::IsEmpty;
using Verb = oci::testing::FakeOciRuntime::Verb;
using Call = oci::testing::FakeOciRuntime::Call;

bool Exists(const std::string& path) {
  return ::access(path.c_str(), F_OK) == 0;
}

class PauseTaskTest : public ::testing::Test {
 protected:
  void SetUp() override {
    handler_.name = "fake";
    handler_.path = "/nonexistent/runtime";
    handler_.root = dir_.Sub("root");
    ASSERT_OK(task_.Init());
  }

  oci::TaskSpec Spec() {
    oci::TaskSpec spec;
    spec.sandbox_id = "0123456789abcdef";
    spec.pod_name = "p";
    spec.pod_namespace = "default";
    spec.pod_uid = "uid-1";
    return spec;
  }

  std::vector<oci::ProcessExit> Exits(size_t n, absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    auto enough = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return exits_.size() >= n;
    };
    mu_.AwaitWithTimeout(absl::Condition(&enough), timeout);
    return exits_;
  }

  std::vector<Verb> Verbs() {
    std::vector<Verb> verbs;
    for (const Call& call : fake_.calls()) verbs.push_back(call.verb);
    return verbs;
  }

  sys::RealSys sys_;
  sys::TempDir dir_;
  std::string bundle_ = dir_.Sub("bundle");
  oci::RuntimeHandler handler_;
  oci::testing::FakeOciRuntime fake_;
  absl::Mutex mu_;
  std::vector<oci::ProcessExit> exits_ ABSL_GUARDED_BY(mu_);
  // No subreaper: the fake's children are this test's own.
  PauseTask task_{
      sys_, nullptr,
      PauseTask::Options{"/pause-rootfs", absl::Seconds(10), fake_.Factory()},
      [this](const oci::ProcessExit& exit) {
        absl::MutexLock lock(&mu_);
        exits_.push_back(exit);
      }};
};

TEST_F(PauseTaskTest, StartsStopsAndDeletesInTheRuntimesOrder) {
  ASSERT_OK_AND_ASSIGN(PauseProcess pause,
                       task_.Start(Spec(), handler_, bundle_));
  EXPECT_EQ(pause.pid, fake_.pid(Spec().sandbox_id));
  EXPECT_TRUE(Exists(bundle_ + "/config.json"));
  ASSERT_OK(task_.Stop(handler_, Spec().sandbox_id, absl::Seconds(10)));
  // The watcher reaped the pause (SIGTERM ends sleep) and reported it once.
  std::vector<oci::ProcessExit> exits = Exits(1, absl::Seconds(10));
  ASSERT_THAT(exits, ElementsAre(Field(&oci::ProcessExit::pid, pause.pid)));
  EXPECT_TRUE(exits[0].status_known);
  EXPECT_EQ(exits[0].term_signal, SIGTERM);
  ASSERT_OK(task_.Delete(handler_, Spec().sandbox_id, bundle_));
  EXPECT_FALSE(Exists(bundle_));
  EXPECT_THAT(fake_.containers(), IsEmpty());
  EXPECT_THAT(Verbs(), ElementsAre(Verb::kCheckSupported, Verb::kCreate,
                                   Verb::kStart, Verb::kKill, Verb::kDelete));
}

TEST_F(PauseTaskTest, ARefusalComesBeforeAnySideEffect) {
  fake_.FailNext(Verb::kCheckSupported,
                 absl::FailedPreconditionError("injected refusal"));
  EXPECT_THAT(task_.Start(Spec(), handler_, bundle_),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_TRUE(fake_.AllInjectedFired());
  EXPECT_FALSE(Exists(bundle_));
  EXPECT_THAT(Verbs(), ElementsAre(Verb::kCheckSupported));
}

// Each failing verb of Start, and the caller's work between create and
// start, is undone: no container, no process, no bundle, no report.
TEST_F(PauseTaskTest, EveryFailureOfStartIsUndone) {
  struct Case {
    const char* name;
    Verb verb;
  };
  for (const Case& c :
       {Case{"create", Verb::kCreate}, Case{"start", Verb::kStart}}) {
    SCOPED_TRACE(c.name);
    fake_.FailNext(c.verb, absl::UnavailableError("injected"));
    EXPECT_THAT(task_.Start(Spec(), handler_, bundle_),
                StatusIs(absl::StatusCode::kUnavailable));
    EXPECT_EQ(fake_.fired(c.verb), 1);
    EXPECT_THAT(fake_.containers(), IsEmpty());
    EXPECT_FALSE(Exists(bundle_));
    EXPECT_FALSE(task_.watcher().IsWatched(Spec().sandbox_id));
  }
  EXPECT_THAT(task_.Start(Spec(), handler_, bundle_,
                          [] { return absl::AbortedError("before start"); }),
              StatusIs(absl::StatusCode::kAborted));
  EXPECT_THAT(fake_.containers(), IsEmpty());
  EXPECT_FALSE(Exists(bundle_));
  EXPECT_TRUE(fake_.AllInjectedFired());
  // An undone pause is reaped, never reported as an exit.
  absl::MutexLock lock(&mu_);
  EXPECT_THAT(exits_, IsEmpty());
}

TEST_F(PauseTaskTest, StopAndDeleteOfAnUnknownTaskSucceed) {
  EXPECT_OK(task_.Stop(handler_, "unknown", absl::Seconds(1)));
  EXPECT_OK(task_.Delete(handler_, "unknown", bundle_));
  EXPECT_THAT(Verbs(), ElementsAre(Verb::kKill, Verb::kDelete));
}

}  // namespace
}  // namespace podsandbox::sandbox
