#include "oci/runtime_cli.h"

#include <sys/stat.h>

#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "metrics/registry.h"
#include "sys/real_sys.h"
#include "sys/testing/status_matchers.h"
#include "sys/testing/temp_dir.h"

namespace podsandbox::oci {
namespace {

using ::podsandbox::sys::testing::IsOkAndHolds;
using ::podsandbox::sys::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

TEST(ExtractRuntimeMessageTest, RuncLogJsonKeepsErrorsAndFatals) {
  // What runc 1.1.5 wrote here for a refused oom_score_adj.
  const char* log =
      R"({"level":"warning","msg":"ignored","time":"t"})"
      "\n"
      R"({"level":"fatal","msg":"nsexec[7118]: failed to update /proc/self/oom_score_adj: Permission denied","time":"t"})"
      "\n"
      R"({"level":"error","msg":"runc create failed: unable to start container process: can't get final child's PID from pipe: EOF","time":"t"})"
      "\n";
  EXPECT_EQ(ExtractRuntimeMessage(log),
            "nsexec[7118]: failed to update /proc/self/oom_score_adj: "
            "Permission denied; runc create failed: unable to start container "
            "process: can't get final child's PID from pipe: EOF");
}

TEST(ExtractRuntimeMessageTest, LogfmtAndPlainLines) {
  EXPECT_EQ(ExtractRuntimeMessage(
                "time=\"2026-11-23T05:42:33Z\" level=error msg=\"container "
                "does not exist\"\n"),
            "container does not exist");
  EXPECT_EQ(ExtractRuntimeMessage("msg=\"say \\\"hi\\\"\""), "say \"hi\"");
  EXPECT_EQ(ExtractRuntimeMessage("error opening file `/r/x/status`: No such "
                                  "file or directory\n\n"),
            "error opening file `/r/x/status`: No such file or directory");
  EXPECT_EQ(ExtractRuntimeMessage(""), "");
}

class RuntimeCliTest : public ::testing::Test {
 protected:
  // A fake runtime: a shell script with `body`.
  RuntimeHandler FakeRuntime(const std::string& body) {
    std::string path = dir_.Sub("fake-runtime");
    std::ofstream(path) << "#!/bin/sh\n" << body << "\n";
    ::chmod(path.c_str(), 0755);
    RuntimeHandler h;
    h.name = "fake";
    h.path = path;
    h.root = dir_.Sub("root");
    h.extra_args = {"--extra"};
    h.timeout = absl::Seconds(5);
    return h;
  }

  sys::RealSys sys_;
  sys::TempDir dir_;
};

TEST_F(RuntimeCliTest, PassesRootExtraArgsAndCommand) {
  RuntimeCli cli(sys_, FakeRuntime("echo \"$@\""), {});
  EXPECT_THAT(cli.Run({"state", "x", {"--log", "l"}, {"state", "x"}}),
              IsOkAndHolds(absl::StrCat("--root ", dir_.Sub("root"),
                                        " --extra --log l state x\n")));
}

TEST_F(RuntimeCliTest, NotFoundMarkersMapToNotFoundExceptForCreate) {
  RuntimeCli cli(sys_,
                 FakeRuntime("echo 'time=\"t\" level=error msg=\"container "
                             "does not exist\"' >&2; exit 1"),
                 {"container does not exist"});
  EXPECT_THAT(cli.Run({"delete", "x", {}, {"delete", "x"}}),
              StatusIs(absl::StatusCode::kNotFound,
                       AllOf(HasSubstr("fake delete x: container does not "
                                       "exist"),
                             HasSubstr("exit code 1"))));
  EXPECT_THAT(cli.Run({"create", "x", {}, {"create", "x"}}),
              StatusIs(absl::StatusCode::kInternal,
                       HasSubstr("container does not exist")));
}

TEST_F(RuntimeCliTest, LogFileExplainsAFailureBeforeStderr) {
  std::string log = dir_.Sub("log.json");
  RuntimeCli cli(sys_,
                 FakeRuntime("echo '{\"level\":\"fatal\",\"msg\":\"the "
                             "cause\"}' > " +
                             log + "; echo useless >&2; exit 1"),
                 {});
  RuntimeCall call{"create", "x", {}, {"create", "x"}};
  call.log_file = log;
  EXPECT_THAT(cli.Run(call), StatusIs(absl::StatusCode::kInternal,
                                      HasSubstr("fake create x: the cause")));
}

TEST_F(RuntimeCliTest, BadBinaryAndDeadline) {
  RuntimeHandler missing = FakeRuntime("");
  missing.path = dir_.Sub("no-such-runtime");
  EXPECT_THAT(RuntimeCli(sys_, missing, {}).Run({"start", "x", {}, {"start"}}),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("no-such-runtime")));
  RuntimeHandler slow = FakeRuntime("sleep 10");
  slow.timeout = absl::Milliseconds(200);
  EXPECT_THAT(
      RuntimeCli(sys_, slow, {}).Run({"start", "x", {}, {"start"}}),
      StatusIs(absl::StatusCode::kDeadlineExceeded, HasSubstr("fake start x")));
}

TEST(ParseStateTest, RuncAndRunscStates) {
  EXPECT_THAT(
      RuntimeCli::ParseState(
          R"({"ociVersion":"1.0.2","id":"x","pid":42,"status":"running","bundle":"/b"})"),
      IsOkAndHolds(
          ::testing::AllOf(::testing::Field(&RuntimeState::pid, 42),
                           ::testing::Field(&RuntimeState::status, "running"),
                           ::testing::Field(&RuntimeState::bundle, "/b"))));
  EXPECT_THAT(RuntimeCli::ParseState(R"({"status":"stopped","pid":-1})"),
              IsOkAndHolds(::testing::Field(&RuntimeState::pid, 0)));
  EXPECT_THAT(RuntimeCli::ParseState("not json"),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("state")));
}

// Every command is observed by the handler's name and the verb, a failing
// one and a raw one (exec's path) too.
TEST_F(RuntimeCliTest, EachCommandIsObservedByRuntimeAndVerb) {
  metrics::HistogramFamily& commands = metrics::DefaultRegistry().Histogram(
      "podsandbox_runtime_command_duration_seconds", "", {"runtime", "verb"},
      metrics::LatencyBuckets());
  const double kill_before = commands.Value({"fake", "kill"});
  const double exec_before = commands.Value({"fake", "exec"});
  RuntimeCli cli(sys_, FakeRuntime("exit 1"), {});
  EXPECT_FALSE(cli.Kill("x", 15).ok());
  EXPECT_OK(
      cli.RunRaw({"exec", "x", {}, {"exec", "x"}}, 1024, absl::ZeroDuration())
          .status());
  EXPECT_EQ(commands.Value({"fake", "kill"}), kill_before + 1);
  EXPECT_EQ(commands.Value({"fake", "exec"}), exec_before + 1);
}

}  // namespace
}  // namespace podsandbox::oci
