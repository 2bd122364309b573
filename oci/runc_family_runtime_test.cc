#include "oci/runc_family_runtime.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sys/file.h"
#include "sys/real_sys.h"
#include "sys/testing/status_matchers.h"
#include "sys/testing/temp_dir.h"
#include "sys/unique_fd.h"

namespace podsandbox::oci {
namespace {

using ::podsandbox::sys::testing::IsOk;
using ::podsandbox::sys::testing::IsOkAndHolds;
using ::podsandbox::sys::testing::StatusIs;
using ::testing::HasSubstr;

// What each flavour prints for a container it does not have.
struct Flavour {
  RuntimeType type;
  const char* missing_message;
};

class FakeRuntimeTest : public ::testing::Test {
 protected:
  // A fake runtime binary: appends its arguments to args.txt, then runs
  // `body`.
  RuntimeHandler FakeRuntime(RuntimeType type, const std::string& body) {
    std::string path = dir_.Sub("fake-runtime");
    std::ofstream(path) << "#!/bin/sh\necho \"$@\" >> " << ArgsFile() << "\n"
                        << body << "\n";
    ::chmod(path.c_str(), 0755);
    RuntimeHandler h;
    h.name = "fake";
    h.type = type;
    h.path = path;
    h.root = dir_.Sub("root");
    h.timeout = absl::Seconds(5);
    return h;
  }
  std::string ArgsFile() { return dir_.Sub("args.txt"); }
  std::string Args() {
    absl::StatusOr<std::string> args = sys::ReadFile(ArgsFile());
    return args.ok() ? *args : "";
  }
  CreateRequest Request() {
    return {"x", "/b", "/b/pause.pid", dir_.Sub("out"),
            dir_.Sub("runtime-log.json")};
  }

  sys::RealSys sys_;
  sys::TempDir dir_;
};

class RuncFamilyRuntimeTest : public FakeRuntimeTest,
                              public ::testing::WithParamInterface<Flavour> {};

TEST_P(RuncFamilyRuntimeTest, CreateRunsWithAJsonLog) {
  RuncFamilyRuntime runtime(sys_, FakeRuntime(GetParam().type, "exit 0"));
  ASSERT_THAT(runtime.Create(Request()), IsOk());
  EXPECT_EQ(Args(), absl::StrCat("--root ", dir_.Sub("root"), " --log ",
                                 dir_.Sub("runtime-log.json"),
                                 " --log-format json create --bundle /b "
                                 "--pid-file /b/pause.pid x\n"));
}

TEST_P(RuncFamilyRuntimeTest, CreateErrorQuotesTheJsonLog) {
  // Both write the real failure as JSON to --log (runc only there).
  RuncFamilyRuntime runtime(
      sys_, FakeRuntime(GetParam().type,
                        "while [ $# -gt 0 ]; do [ \"$1\" = --log ] && log=$2; "
                        "shift; done\n"
                        "echo '{\"level\":\"error\",\"msg\":\"the cause\"}' > "
                        "\"$log\"; exit 1"));
  EXPECT_THAT(runtime.Create(Request()),
              StatusIs(absl::StatusCode::kInternal,
                       HasSubstr("fake create x: the cause")));
}

TEST_P(RuncFamilyRuntimeTest, OwnMissingMessageIsNotFound) {
  RuncFamilyRuntime runtime(
      sys_, FakeRuntime(GetParam().type,
                        absl::StrCat("echo '", GetParam().missing_message,
                                     "' >&2; exit 1")));
  EXPECT_THAT(runtime.Delete("x"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(runtime.Kill("x", 15), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(runtime.State("x").status(),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_P(RuncFamilyRuntimeTest, ExecExitCodeIsAResult) {
  RuncFamilyRuntime runtime(
      sys_, FakeRuntime(GetParam().type, "echo out; echo err >&2; exit 3"));
  ExecRequest exec;
  exec.id = "x";
  exec.process_file = "/b/process.json";
  exec.runtime_log_file = dir_.Sub("exec-log.json");
  ASSERT_OK_AND_ASSIGN(ExecResult result, runtime.Exec(exec));
  EXPECT_EQ(result.exit_code, 3);
  EXPECT_EQ(result.stdout_data, "out\n");
  EXPECT_EQ(result.stderr_data, "err\n");
  EXPECT_EQ(Args(),
            absl::StrCat("--root ", dir_.Sub("root"), " --log ",
                         dir_.Sub("exec-log.json"),
                         " --log-format json exec --process /b/process.json "
                         "--pid-file ",
                         dir_.Sub("exec-log.json.pid"), " x\n"));
}

TEST_P(RuncFamilyRuntimeTest, ExecRuntimeFailureIsAnError) {
  // The runtime's own failure is in its log; a missing container's message
  // is NotFound.
  RuncFamilyRuntime runtime(
      sys_, FakeRuntime(GetParam().type,
                        absl::StrCat("while [ $# -gt 0 ]; do [ \"$1\" = "
                                     "--log ] && log=$2; shift; done\n"
                                     "echo '{\"level\":\"error\",\"msg\":"
                                     "\"",
                                     GetParam().missing_message,
                                     "\"}' > \"$log\"; exit 1")));
  ExecRequest exec;
  exec.id = "x";
  exec.process_file = "/b/process.json";
  exec.runtime_log_file = dir_.Sub("exec-log.json");
  EXPECT_THAT(runtime.Exec(exec).status(),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("fake exec x")));
}

TEST_P(RuncFamilyRuntimeTest, UpdateSendsTheResourcesOnStdin) {
  RuncFamilyRuntime runtime(
      sys_, FakeRuntime(GetParam().type,
                        absl::StrCat("cat > ", dir_.Sub("stdin.txt"))));
  ASSERT_THAT(runtime.Update("x", R"({"cpu":{"shares":512}})"), IsOk());
  EXPECT_THAT(Args(), HasSubstr("update --resources - x\n"));
  EXPECT_THAT(sys::ReadFile(dir_.Sub("stdin.txt")),
              IsOkAndHolds(R"({"cpu":{"shares":512}})"));
}

TEST_P(RuncFamilyRuntimeTest, CreateHandsTheStdioFdsOn) {
  // What the runtime's create writes goes where the container's output
  // will: the fds given, not log_file.
  RuncFamilyRuntime runtime(
      sys_, FakeRuntime(GetParam().type, "echo out; echo err >&2"));
  std::string out_path = dir_.Sub("stdout.txt");
  std::string err_path = dir_.Sub("stderr.txt");
  sys::UniqueFd out(::open(out_path.c_str(), O_WRONLY | O_CREAT, 0600));
  sys::UniqueFd err(::open(err_path.c_str(), O_WRONLY | O_CREAT, 0600));
  ASSERT_TRUE(out.valid() && err.valid());
  CreateRequest create = Request();
  create.log_file.clear();
  create.stdout_fd = out.get();
  create.stderr_fd = err.get();
  ASSERT_THAT(runtime.Create(create), IsOk());
  EXPECT_THAT(sys::ReadFile(out_path), IsOkAndHolds("out\n"));
  EXPECT_THAT(sys::ReadFile(err_path), IsOkAndHolds("err\n"));
}

INSTANTIATE_TEST_SUITE_P(
    Flavours, RuncFamilyRuntimeTest,
    ::testing::Values(
        Flavour{RuntimeType::kRunc,
                "time=\"t\" level=error msg=\"container does not exist\""},
        Flavour{RuntimeType::kCrun,
                "error opening file `/r/x/status`: No such file or "
                "directory"}),
    [](const ::testing::TestParamInfo<Flavour>& info) {
      return std::string(RuntimeTypeName(info.param.type));
    });

TEST_F(FakeRuntimeTest, AnotherFlavoursMissingMessageIsAFailure) {
  // crun saying runc's words means something else went wrong: not NotFound.
  RuncFamilyRuntime crun(
      sys_, FakeRuntime(RuntimeType::kCrun,
                        "echo 'level=error msg=\"container does not exist\"'"
                        " >&2; exit 1"));
  EXPECT_THAT(crun.Delete("x"), StatusIs(absl::StatusCode::kInternal));
}

TEST_F(FakeRuntimeTest, OnlyRuncGetsTheRuncOnlyCreateOptions) {
  RuntimeHandler runc = FakeRuntime(RuntimeType::kRunc, "exit 0");
  runc.no_pivot_root = true;
  runc.no_new_keyring = true;
  ASSERT_THAT(RuncFamilyRuntime(sys_, runc).Create(Request()), IsOk());
  EXPECT_THAT(Args(), HasSubstr("--no-pivot --no-new-keyring x\n"));

  // A crun handler cannot hold them (HandlerRegistry refuses it); were it
  // built by hand, crun, which rejects unknown flags, still never sees them.
  ASSERT_EQ(::unlink(ArgsFile().c_str()), 0);
  RuntimeHandler crun = runc;
  crun.type = RuntimeType::kCrun;
  ASSERT_THAT(RuncFamilyRuntime(sys_, crun).Create(Request()), IsOk());
  EXPECT_THAT(Args(), HasSubstr("--pid-file /b/pause.pid x\n"));
  EXPECT_THAT(Args(), ::testing::Not(HasSubstr("--no-")));
}

}  // namespace
}  // namespace podsandbox::oci
