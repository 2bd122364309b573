#include "oci/runtime_factory.h"

#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sys/real_sys.h"
#include "sys/testing/faulty_sys.h"
#include "sys/testing/status_matchers.h"

namespace podsandbox::oci {
namespace {

using ::podsandbox::sys::testing::StatusIs;
using ::testing::HasSubstr;

RuntimeHandler Handler(RuntimeType type,
                       std::vector<std::string> extra_args = {}) {
  RuntimeHandler h;
  h.name = std::string(RuntimeTypeName(type));
  h.type = type;
  h.path = "/nonexistent/" + h.name;
  h.root = "/run/podsandbox/" + h.name;
  h.extra_args = std::move(extra_args);
  return h;
}

constexpr PodNeeds kHostNetwork = {/*own_netns=*/false,
                                   /*user_namespace=*/false};
constexpr PodNeeds kPodNetwork = {/*own_netns=*/true,
                                  /*user_namespace=*/false};
constexpr PodNeeds kPodNetworkAndUserns = {/*own_netns=*/true,
                                           /*user_namespace=*/true};
constexpr PodNeeds kHostNetworkAndUserns = {/*own_netns=*/false,
                                            /*user_namespace=*/true};

class CheckCanRunTest : public ::testing::Test {
 protected:
  // Every check here is decided from the handler and the pod's needs
  // alone: no call through sys::Sys (no namespace, file or process).
  void TearDown() override {
    for (int c = 0; c < sys::kSysCallCount; ++c) {
      SysCall call = static_cast<SysCall>(c);
      EXPECT_EQ(sys_.count(call), 0) << sys::SysCallName(call);
    }
  }
  using SysCall = sys::SysCall;

  sys::RealSys real_;
  sys::FaultySys sys_{real_};
};

TEST_F(CheckCanRunTest, RuncAndCrunRunEveryKindOfPod) {
  for (RuntimeType type : {RuntimeType::kRunc, RuntimeType::kCrun}) {
    for (const PodNeeds& pod : {kHostNetwork, kPodNetwork, kPodNetworkAndUserns,
                                kHostNetworkAndUserns}) {
      EXPECT_OK(CheckCanRun(sys_, Handler(type), pod));
    }
  }
}

TEST_F(CheckCanRunTest, RunscWithHostNetworkRunsOnlyHostNetworkPods) {
  RuntimeHandler runsc = Handler(RuntimeType::kRunsc, {"--network=host"});
  EXPECT_OK(CheckCanRun(sys_, runsc, kHostNetwork));
  EXPECT_THAT(CheckCanRun(sys_, runsc, kPodNetwork),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("runtime handler \"runsc\" (runsc): runs "
                                 "with --network=host, so it can only run "
                                 "host-network pods")));
}

TEST_F(CheckCanRunTest, RunscRefusesUserNamespacesAndNoNetwork) {
  RuntimeHandler runsc = Handler(RuntimeType::kRunsc, {"--network=host"});
  EXPECT_THAT(CheckCanRun(sys_, runsc, kPodNetworkAndUserns),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("cannot join the pod's user namespace")));
  EXPECT_THAT(CheckCanRun(sys_, runsc, kHostNetworkAndUserns),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("user namespace are not supported")));
  EXPECT_THAT(
      CheckCanRun(sys_, Handler(RuntimeType::kRunsc, {"--network=none"}),
                  kHostNetwork),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("no network")));
  // runsc's default, --network=sandbox, needs a netns to copy.
  EXPECT_THAT(CheckCanRun(sys_, Handler(RuntimeType::kRunsc), kHostNetwork),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("needs a handler with --network=host")));
}

TEST(PodNeedsOfTest, ReadsTheSpecsNetnsAndMappings) {
  TaskSpec spec;
  PodNeeds needs = PodNeedsOf(spec);
  EXPECT_FALSE(needs.own_netns);
  EXPECT_FALSE(needs.user_namespace);
  spec.netns_path = "/run/netns/x";
  spec.id_mappings =
      userns::IdMappings{{{0, 100000, 65536}}, {{0, 100000, 65536}}};
  needs = PodNeedsOf(spec);
  EXPECT_TRUE(needs.own_netns);
  EXPECT_TRUE(needs.user_namespace);
}

// Containers run on runc and crun only: the other drivers refuse exec and
// update naming themselves, before any side effect.
TEST_F(CheckCanRunTest, RunscAndBuiltinRefuseExecAndUpdate) {
  for (RuntimeType type : {RuntimeType::kRunsc, RuntimeType::kBuiltin}) {
    const RuntimeHandler handler = Handler(type);
    std::unique_ptr<OciRuntime> runtime = MakeOciRuntime(sys_, handler);
    ExecRequest exec;
    exec.id = "c";
    exec.process_file = "/nonexistent/process.json";
    EXPECT_THAT(runtime->Exec(exec).status(),
                StatusIs(absl::StatusCode::kUnimplemented,
                         HasSubstr("runtime handler " + handler.name)));
    EXPECT_THAT(runtime->Update("c", "{}"),
                StatusIs(absl::StatusCode::kUnimplemented,
                         HasSubstr("runtime handler " + handler.name)));
  }
}

}  // namespace
}  // namespace podsandbox::oci
