// The harness against real runtimes: every check PASSes against the real
// podsandboxd binary (temporary directories, its own bridge network, runc),
// and every check FAILs against a deliberately broken endpoint, a stub CRI
// server in this test that forwards to that podsandboxd but breaks one
// promise: it drops userns_options (a runtime that accepts and ignores
// them, as containerd 1.6 does), or also puts the pod on the host network
// (so /sys is the host's sysfs), or answers Stop and Remove without doing
// them, or strips the verbose info (the checks must SKIP, saying why).
// Needs root.
#include <signal.h>

#include <cstdio>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "cri/api.grpc.pb.h"
#include "cri/api.pb.h"
#include "cri/testing/podsandboxd_fixture.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "harness/checks.h"
#include "harness/cri_client.h"

namespace podsandbox::harness {
namespace {

namespace v1 = ::runtime::v1;
using ::podsandbox::cri::RpcContext;
using ::testing::HasSubstr;

constexpr char kBridge[] = "psbharn0";
constexpr char kSubnet[] = "10.238.0.0/24";

// How the stub breaks the CRI contract.
enum class Breakage {
  kIgnoreUserns,      // drops userns_options, runs the pod anyway
  kIgnoreNamespaces,  // that, and runs the pod on the host network
  kNoTeardown,        // Stop and Remove answer OK and do nothing
  kNoVerboseInfo,     // PodSandboxStatus without its "info"
};

// A CRI endpoint that forwards to podsandboxd, broken as told.
class BrokenRuntime final : public v1::RuntimeService::Service {
 public:
  BrokenRuntime(const std::string& real_endpoint, Breakage breakage)
      : real_(v1::RuntimeService::NewStub(grpc::CreateChannel(
            real_endpoint, grpc::InsecureChannelCredentials()))),
        breakage_(breakage) {}

  grpc::Status Version(grpc::ServerContext*, const v1::VersionRequest* request,
                       v1::VersionResponse* response) override {
    return real_->Version(RpcContext().get(), *request, response);
  }

  grpc::Status RunPodSandbox(grpc::ServerContext*,
                             const v1::RunPodSandboxRequest* request,
                             v1::RunPodSandboxResponse* response) override {
    v1::RunPodSandboxRequest forwarded = *request;
    v1::NamespaceOption* options = forwarded.mutable_config()
                                       ->mutable_linux()
                                       ->mutable_security_context()
                                       ->mutable_namespace_options();
    if (breakage_ == Breakage::kIgnoreUserns ||
        breakage_ == Breakage::kIgnoreNamespaces) {
      options->clear_userns_options();
    }
    if (breakage_ == Breakage::kIgnoreNamespaces)
      options->set_network(v1::NODE);
    return real_->RunPodSandbox(RpcContext().get(), forwarded, response);
  }

  grpc::Status StopPodSandbox(grpc::ServerContext*,
                              const v1::StopPodSandboxRequest* request,
                              v1::StopPodSandboxResponse* response) override {
    if (breakage_ == Breakage::kNoTeardown) return grpc::Status::OK;
    return real_->StopPodSandbox(RpcContext().get(), *request, response);
  }

  grpc::Status RemovePodSandbox(
      grpc::ServerContext*, const v1::RemovePodSandboxRequest* request,
      v1::RemovePodSandboxResponse* response) override {
    if (breakage_ == Breakage::kNoTeardown) return grpc::Status::OK;
    return real_->RemovePodSandbox(RpcContext().get(), *request, response);
  }

  grpc::Status PodSandboxStatus(
      grpc::ServerContext*, const v1::PodSandboxStatusRequest* request,
      v1::PodSandboxStatusResponse* response) override {
    grpc::Status s =
        real_->PodSandboxStatus(RpcContext().get(), *request, response);
    if (breakage_ == Breakage::kNoVerboseInfo) response->clear_info();
    return s;
  }

 private:
  std::unique_ptr<v1::RuntimeService::Stub> real_;
  const Breakage breakage_;
};

cri::PodsandboxdTestBase::Options FixtureOptions() {
  cri::PodsandboxdTestBase::Options options;
  options.bridge = kBridge;
  options.subnet = kSubnet;
  options.network_name = "psb-harness";
  return options;
}

class HarnessTest : public cri::PodsandboxdTestBase {
 protected:
  HarnessTest() : PodsandboxdTestBase(FixtureOptions()) {}

  void SetUp() override {
    PodsandboxdTestBase::SetUp();
    options_.teardown_timeout = absl::Seconds(2);
    ASSERT_NO_FATAL_FAILURE(StartDaemon());
  }

  void TearDown() override {
    if (stub_server_ != nullptr) stub_server_->Shutdown();
    // Its channel to the daemon too: podsandboxd's SIGTERM waits seconds
    // for open client connections.
    broken_.reset();
    if (daemon_running()) {
      // Straight to podsandboxd, past any stub.
      RemoveAllPods();
      CloseClient();  // ours too, for the same reason
      StopDaemon(SIGTERM);
    }
    PodsandboxdTestBase::TearDown();
  }

  // Serves a BrokenRuntime on a socket beside the daemon's; returns its
  // endpoint. One per test.
  std::string StartStub(Breakage breakage) {
    broken_ = std::make_unique<BrokenRuntime>(endpoint(), breakage);
    const std::string stub_endpoint =
        absl::StrCat("unix://", base().Sub("broken.sock"));
    grpc::ServerBuilder builder;
    builder.AddListeningPort(stub_endpoint, grpc::InsecureServerCredentials());
    builder.RegisterService(broken_.get());
    stub_server_ = builder.BuildAndStart();
    EXPECT_NE(stub_server_, nullptr);
    return stub_endpoint;
  }

  std::map<std::string, Verdict> Run(const std::string& at,
                                     absl::string_view filter) {
    CriClient client(at, absl::Minutes(2));
    absl::StatusOr<std::vector<Check>> checks = SelectChecks(filter);
    EXPECT_TRUE(checks.ok()) << checks.status();
    std::map<std::string, Verdict> out;
    if (!checks.ok()) return out;
    for (const CheckResult& r : RunChecks(*checks, client, options_)) {
      // The verdicts in the test log, for whoever reads a failure.
      fprintf(stderr, "%s\n", FormatLine(r, 28).c_str());
      out[r.name] = r.verdict;
    }
    return out;
  }

  std::unique_ptr<BrokenRuntime> broken_;
  std::unique_ptr<grpc::Server> stub_server_;
  HarnessOptions options_;
};

TEST_F(HarnessTest, EveryCheckPassesAgainstPodsandboxd) {
  const std::map<std::string, Verdict> verdicts = Run(endpoint(), "");
  ASSERT_EQ(verdicts.size(), AllChecks().size());
  for (const auto& [name, verdict] : verdicts) {
    EXPECT_EQ(verdict.outcome, Outcome::kPass)
        << name << ": " << OutcomeName(verdict.outcome) << " "
        << verdict.detail;
  }
  // Each check removed what it started.
  EXPECT_TRUE(ListPods().empty());
}

TEST_F(HarnessTest, UsernsChecksFailAgainstARuntimeThatIgnoresUserns) {
  const std::map<std::string, Verdict> verdicts =
      Run(StartStub(Breakage::kIgnoreUserns), "");
  ASSERT_EQ(verdicts.size(), AllChecks().size());
  // The pod still gets its own netns and sysfs, and teardown works: those
  // two checks have nothing to catch here.
  const std::set<std::string> still_pass = {"sysfs_mounted",
                                            "teardown_leaves_nothing"};
  for (const auto& [name, verdict] : verdicts) {
    const Outcome want =
        still_pass.count(name) ? Outcome::kPass : Outcome::kFail;
    EXPECT_EQ(verdict.outcome, want) << name << ": " << verdict.detail;
  }
  for (const char* name :
       {"refuses_mode_container", "refuses_overlapping_ranges",
        "refuses_zero_length", "refuses_uids_without_gids"}) {
    EXPECT_THAT(verdicts.at(name).detail,
                HasSubstr("accepted and ignored: pause"))
        << name;
  }
  for (const char* name :
       {"maps_one_range", "maps_several_ranges", "host_network_userns"}) {
    EXPECT_THAT(verdicts.at(name).detail,
                HasSubstr("accepted and ignored (pause in the host user "
                          "namespace): pause"))
        << name;
    EXPECT_THAT(verdicts.at(name).detail, HasSubstr("0 0 4294967295"));
  }
  EXPECT_THAT(verdicts.at("netns_owned_by_pod_userns").detail,
              HasSubstr("accepted and not isolated"));
  EXPECT_THAT(verdicts.at("disjoint_pods_apart").detail,
              HasSubstr("accepted and not isolated"));
  EXPECT_THAT(verdicts.at("host_root_not_mapped").detail,
              HasSubstr("host id 0 is mapped"));
  EXPECT_TRUE(ListPods().empty());
}

TEST_F(HarnessTest, SysfsCheckFailsWhenThePodSeesTheHostsSysfs) {
  const std::map<std::string, Verdict> verdicts =
      Run(StartStub(Breakage::kIgnoreNamespaces), "sysfs_mounted");
  ASSERT_EQ(verdicts.count("sysfs_mounted"), 1u);
  EXPECT_EQ(verdicts.at("sysfs_mounted").outcome, Outcome::kFail);
  EXPECT_THAT(verdicts.at("sysfs_mounted").detail,
              HasSubstr("is the host's sysfs"));
}

TEST_F(HarnessTest, TeardownCheckFailsWhenRemoveLeavesThePause) {
  const std::map<std::string, Verdict> verdicts =
      Run(StartStub(Breakage::kNoTeardown), "teardown_leaves_nothing");
  ASSERT_EQ(verdicts.count("teardown_leaves_nothing"), 1u);
  const Verdict& v = verdicts.at("teardown_leaves_nothing");
  EXPECT_EQ(v.outcome, Outcome::kFail);
  EXPECT_THAT(v.detail, HasSubstr("still there: pause process"));
  EXPECT_THAT(v.detail, HasSubstr("pinned "));
  // The pod is still there: TearDown removes it past the stub.
  EXPECT_EQ(ListPods().size(), 1u);
}

TEST_F(HarnessTest, ChecksSkipWhenTheRuntimeReportsNoPid) {
  const std::map<std::string, Verdict> verdicts =
      Run(StartStub(Breakage::kNoVerboseInfo), "");
  ASSERT_EQ(verdicts.size(), AllChecks().size());
  for (const auto& [name, verdict] : verdicts) {
    if (absl::StartsWith(name, "refuses_")) {
      // podsandboxd still refuses: no pod, no pid needed.
      EXPECT_EQ(verdict.outcome, Outcome::kPass)
          << name << ": " << verdict.detail;
    } else {
      EXPECT_EQ(verdict.outcome, Outcome::kSkip)
          << name << ": " << verdict.detail;
      EXPECT_THAT(verdict.detail, HasSubstr("info")) << name;
    }
  }
  EXPECT_TRUE(ListPods().empty());
}

}  // namespace
}  // namespace podsandbox::harness
