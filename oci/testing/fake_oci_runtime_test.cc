#include "oci/testing/fake_oci_runtime.h"

#include <sys/wait.h>

#include <string>

#include "absl/strings/numbers.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sys/file.h"
#include "sys/testing/status_matchers.h"
#include "sys/testing/temp_dir.h"

namespace podsandbox::oci::testing {
namespace {

using ::podsandbox::sys::testing::IsOkAndHolds;
using ::podsandbox::sys::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::Field;
using Verb = FakeOciRuntime::Verb;

class FakeOciRuntimeTest : public ::testing::Test {
 protected:
  FakeOciRuntimeTest() {
    handler_.name = "fake";
    handler_.path = "/nonexistent/fake";
    handler_.root = "/nonexistent/root";
  }

  CreateRequest Request(const std::string& id) {
    return {id, dir_.Sub("bundle"), dir_.Sub(id + ".pid"), "/dev/null", ""};
  }

  // Polls until `id` is stopped (its child exited) or `timeout` passes.
  bool BecomesStopped(OciRuntime& runtime, const std::string& id,
                      absl::Duration timeout) {
    absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      absl::StatusOr<RuntimeState> state = runtime.State(id);
      if (state.ok() && state->status == "stopped") return true;
      absl::SleepFor(absl::Milliseconds(5));
    }
    return false;
  }

  // The fake does not reap (an exit watcher would); the test does.
  static void Reap(pid_t pid) { ::waitpid(pid, nullptr, 0); }

  RuntimeHandler handler_;
  sys::TempDir dir_;
  FakeOciRuntime fake_;
};

TEST_F(FakeOciRuntimeTest, ContainerIsAChildProcessThroughItsLifecycle) {
  std::unique_ptr<OciRuntime> runtime = fake_.Make(handler_);
  ASSERT_OK(runtime->Create(Request("a")));
  pid_t pid = fake_.pid("a");
  ASSERT_GT(pid, 0);
  // The pid file says which process, as a runtime's --pid-file does.
  ASSERT_OK_AND_ASSIGN(std::string text, sys::ReadFile(dir_.Sub("a.pid")));
  int from_file = 0;
  ASSERT_TRUE(absl::SimpleAtoi(text, &from_file));
  EXPECT_EQ(from_file, pid);
  EXPECT_THAT(runtime->State("a"),
              IsOkAndHolds(Field(&RuntimeState::status, "created")));
  ASSERT_OK(runtime->Start("a"));
  EXPECT_THAT(runtime->State("a"),
              IsOkAndHolds(Field(&RuntimeState::status, "running")));

  // Another driver object sees the same container.
  std::unique_ptr<OciRuntime> other = fake_.Factory()(handler_);
  ASSERT_OK(other->Kill("a", SIGKILL));
  EXPECT_TRUE(BecomesStopped(*other, "a", absl::Seconds(10)));
  EXPECT_THAT(other->Kill("a", SIGTERM), StatusIs(absl::StatusCode::kInternal));
  Reap(pid);
  ASSERT_OK(other->Delete("a"));
  EXPECT_THAT(other->Delete("a"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(other->State("a").status(),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_TRUE(fake_.containers().empty());
}

TEST_F(FakeOciRuntimeTest, DeleteKillsALiveContainer) {
  std::unique_ptr<OciRuntime> runtime = fake_.Make(handler_);
  ASSERT_OK(runtime->Create(Request("b")));
  pid_t pid = fake_.pid("b");
  ASSERT_OK(runtime->Delete("b"));
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

TEST_F(FakeOciRuntimeTest, InjectedErrorsFireOnceEachAndChangeNothing) {
  std::unique_ptr<OciRuntime> runtime = fake_.Make(handler_);
  fake_.FailNext(Verb::kCreate, absl::UnavailableError("injected create"));
  fake_.FailNext(Verb::kDelete, absl::InternalError("injected delete"), 2);
  EXPECT_FALSE(fake_.AllInjectedFired());

  EXPECT_THAT(runtime->Create(Request("c")),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_TRUE(fake_.containers().empty());
  EXPECT_EQ(fake_.fired(Verb::kCreate), 1);
  ASSERT_OK(runtime->Create(Request("c")));

  EXPECT_THAT(runtime->Delete("c"), StatusIs(absl::StatusCode::kInternal));
  EXPECT_THAT(runtime->Delete("c"), StatusIs(absl::StatusCode::kInternal));
  EXPECT_THAT(fake_.containers(), ElementsAre("c"));
  EXPECT_EQ(fake_.fired(Verb::kDelete), 2);
  EXPECT_TRUE(fake_.AllInjectedFired());
  pid_t pid = fake_.pid("c");
  ASSERT_OK(runtime->Delete("c"));
  Reap(pid);

  EXPECT_EQ(fake_.count(Verb::kCreate), 2);
  EXPECT_EQ(fake_.count(Verb::kDelete), 3);
  EXPECT_THAT(fake_.calls(),
              ElementsAre(Field(&FakeOciRuntime::Call::verb, Verb::kCreate),
                          Field(&FakeOciRuntime::Call::verb, Verb::kCreate),
                          Field(&FakeOciRuntime::Call::verb, Verb::kDelete),
                          Field(&FakeOciRuntime::Call::verb, Verb::kDelete),
                          Field(&FakeOciRuntime::Call::verb, Verb::kDelete)));
}

TEST_F(FakeOciRuntimeTest, ChecksFollowTheCapabilityTableUnlessInjected) {
  std::unique_ptr<OciRuntime> runtime = fake_.Make(handler_);
  EXPECT_OK(runtime->CheckCanRun({/*own_netns=*/true,
                                  /*user_namespace=*/true}));
  fake_.FailNext(Verb::kCheckCanRun,
                 absl::FailedPreconditionError("injected refusal"));
  EXPECT_THAT(runtime->CheckCanRun({}),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(fake_.fired(Verb::kCheckCanRun), 1);
  handler_.type = RuntimeType::kRunsc;
  EXPECT_THAT(fake_.Make(handler_)->CheckCanRun({true, true}),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(FakeOciRuntimeTest, ExecAndUpdateNeedALiveContainer) {
  std::unique_ptr<OciRuntime> runtime = fake_.Make(handler_);
  ExecRequest exec;
  exec.id = "e";
  EXPECT_THAT(runtime->Exec(exec).status(),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(runtime->Update("e", "{}"),
              StatusIs(absl::StatusCode::kNotFound));
  ASSERT_OK(runtime->Create(Request("e")));
  // Created, not started: nothing to exec in.
  EXPECT_THAT(runtime->Exec(exec).status(),
              StatusIs(absl::StatusCode::kInternal));
  ASSERT_OK(runtime->Start("e"));

  ExecResult result;
  result.exit_code = 3;
  result.stdout_data = "out";
  fake_.SetExecResult(result);
  EXPECT_THAT(runtime->Exec(exec),
              IsOkAndHolds(AllOf(Field(&ExecResult::exit_code, 3),
                                 Field(&ExecResult::stdout_data, "out"))));
  ASSERT_OK(runtime->Update("e", R"({"cpu":{"shares":512}})"));
  EXPECT_EQ(fake_.resources("e"), R"({"cpu":{"shares":512}})");

  fake_.FailNext(Verb::kExec, absl::UnavailableError("injected exec"));
  fake_.FailNext(Verb::kUpdate, absl::UnavailableError("injected update"));
  EXPECT_THAT(runtime->Exec(exec).status(),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(runtime->Update("e", "{}"),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(fake_.resources("e"), R"({"cpu":{"shares":512}})");
  EXPECT_EQ(fake_.fired(Verb::kExec), 1);
  EXPECT_EQ(fake_.fired(Verb::kUpdate), 1);
  EXPECT_TRUE(fake_.AllInjectedFired());
  pid_t pid = fake_.pid("e");
  ASSERT_OK(runtime->Delete("e"));
  Reap(pid);
}

}  // namespace
}  // namespace podsandbox::oci::testing
