// The harness against real runtimes: every check PASSes against the real
// podsandboxd binary (temporary directories, its own bridge network, runc),
// and every check FAILs against a deliberately broken endpoint, a stub CRI
// server in this test that forwards to that podsandboxd but breaks one
// promise: it drops userns_options (a runtime that accepts and ignores
// them, as containerd 1.6 does), or also puts the pod on the host network
// (so /sys is the host's sysfs), or answers Stop and Remove without doing
// them, or strips the verbose info (the checks must SKIP, saying why).
// Needs root.
#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "cri/api.grpc.pb.h"
#include "cri/api.pb.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "harness/checks.h"
#include "harness/cri_client.h"
#include "sys/real_sys.h"
#include "sys/subprocess.h"
#include "sys/testing/leak_check.h"
#include "sys/testing/temp_dir.h"

namespace podsandbox::harness {
namespace {

namespace v1 = ::runtime::v1;
using ::testing::HasSubstr;

constexpr char kBridge[] = "psbharn0";
constexpr char kSubnet[] = "10.238.0.0/24";
constexpr char kIpForward[] = "/proc/sys/net/ipv4/ip_forward";

std::string Runfile(absl::string_view path) {
  const char* srcdir = getenv("TEST_SRCDIR");
  return absl::StrCat(srcdir != nullptr ? srcdir : ".", "/podsandbox/", path);
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void WriteAll(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
}

std::unique_ptr<grpc::ClientContext> Context() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + absl::Minutes(2)));
  return context;
}

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
    return real_->Version(Context().get(), *request, response);
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
    return real_->RunPodSandbox(Context().get(), forwarded, response);
  }

  grpc::Status StopPodSandbox(grpc::ServerContext*,
                              const v1::StopPodSandboxRequest* request,
                              v1::StopPodSandboxResponse* response) override {
    if (breakage_ == Breakage::kNoTeardown) return grpc::Status::OK;
    return real_->StopPodSandbox(Context().get(), *request, response);
  }

  grpc::Status RemovePodSandbox(
      grpc::ServerContext*, const v1::RemovePodSandboxRequest* request,
      v1::RemovePodSandboxResponse* response) override {
    if (breakage_ == Breakage::kNoTeardown) return grpc::Status::OK;
    return real_->RemovePodSandbox(Context().get(), *request, response);
  }

  grpc::Status PodSandboxStatus(
      grpc::ServerContext*, const v1::PodSandboxStatusRequest* request,
      v1::PodSandboxStatusResponse* response) override {
    grpc::Status s =
        real_->PodSandboxStatus(Context().get(), *request, response);
    if (breakage_ == Breakage::kNoVerboseInfo) response->clear_info();
    return s;
  }

 private:
  std::unique_ptr<v1::RuntimeService::Stub> real_;
  const Breakage breakage_;
};

class HarnessTest : public sys::LeakCheckedTest {
 protected:
  void SetUp() override {
    LeakCheckedTest::SetUp();
    ip_forward_ = ReadAll(kIpForward);
    // A user namespace's root must reach the bundle and rootfs under the
    // state dir, so not under $TEST_TMPDIR (/root/..., mode 0700).
    base_ = std::make_unique<sys::TempDir>("/tmp");
    chmod(base_->path().c_str(), 0711);
    socket_ = base_->Sub("run/podsandboxd.sock");
    mkdir(base_->Sub("net.d").c_str(), 0755);
    WriteAll(base_->Sub("net.d/10-harness.conflist"),
             absl::StrCat(R"({"cniVersion": "1.0.0", "name": "psb-harness",
  "plugins": [{"type": "bridge", "bridge": ")",
                          kBridge, R"(", "isGateway": true, "ipMasq": false,
    "ipam": {"type": "host-local", "ranges": [[{"subnet": ")",
                          kSubnet, R"("}]], "dataDir": ")", base_->Sub("ipam"),
                          R"("}}]})"));
    config_ = base_->Sub("podsandboxd.toml");
    WriteAll(config_, absl::StrCat(R"(
stop_grace_period = "2s"
[cni]
conf_dir = ")",
                                   base_->Sub("net.d"), R"("
bin_dirs = ["/usr/lib/cni", "/opt/cni/bin"]

[[runtime_handlers]]
name = "runc"
type = "runc"
path = "/usr/sbin/runc"
)"));
    options_.teardown_timeout = absl::Seconds(2);
    ASSERT_NO_FATAL_FAILURE(StartDaemon());
  }

  void TearDown() override {
    if (stub_server_ != nullptr) stub_server_->Shutdown();
    // Its channel to the daemon too: podsandboxd's SIGTERM waits seconds
    // for open client connections.
    broken_.reset();
    if (daemon_ > 0) {
      RemoveAllPods();
      real_.reset();
      kill(daemon_, SIGTERM);
      int status = 0;
      waitpid(daemon_, &status, 0);
    }
    LeakCheckedTest::TearDown();
  }

  void CleanUpTestFixtures() override {
    // The pin directories stay bind-mounted after the daemon exits; the
    // bridge outlives its last veth.
    std::istringstream mounts(ReadAll("/proc/self/mountinfo"));
    std::vector<std::string> ours;
    for (std::string line; std::getline(mounts, line);) {
      std::vector<std::string> fields = absl::StrSplit(line, ' ');
      if (fields.size() > 4 && absl::StartsWith(fields[4], base_->path())) {
        ours.push_back(fields[4]);
      }
    }
    for (auto it = ours.rbegin(); it != ours.rend(); ++it) {
      umount2(it->c_str(), MNT_DETACH);
    }
    sys::RealSys sys;
    sys::Command del{"/usr/sbin/ip", {"ip", "link", "del", kBridge}};
    sys::RunSubprocess(sys, del).IgnoreError();  // absent: nothing to undo
    base_.reset();
    // The bridge plugin turns forwarding on for a gateway bridge.
    WriteAll(kIpForward, ip_forward_);
  }

  void StartDaemon() {
    const std::string log = base_->Sub("daemon.log");
    std::vector<std::string> args = {Runfile("cri/podsandboxd"),
                                     "--config",
                                     config_,
                                     "--root",
                                     base_->Sub("root"),
                                     "--state",
                                     base_->Sub("run"),
                                     "--listen",
                                     socket_,
                                     "--pause-binary",
                                     Runfile("sandbox/pause/pause")};
    daemon_ = fork();
    ASSERT_GE(daemon_, 0);
    if (daemon_ == 0) {
      const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      dup2(fd, 1);
      dup2(fd, 2);
      std::vector<char*> argv;
      for (std::string& arg : args) argv.push_back(arg.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    const absl::Time deadline = absl::Now() + absl::Seconds(60);
    while (absl::Now() < deadline) {
      int status = 0;
      if (waitpid(daemon_, &status, WNOHANG) == daemon_) {
        daemon_ = -1;
        FAIL() << "podsandboxd exited at start:\n" << ReadAll(log);
      }
      // A fresh channel per attempt: a channel whose first connect failed
      // (no socket yet) waits out gRPC's reconnect backoff, seconds long.
      real_ = v1::RuntimeService::NewStub(
          grpc::CreateChannel(endpoint(), grpc::InsecureChannelCredentials()));
      grpc::ClientContext context;
      context.set_deadline(
          absl::ToChronoTime(absl::Now() + absl::Milliseconds(200)));
      v1::VersionResponse response;
      if (real_->Version(&context, {}, &response).ok()) return;
      absl::SleepFor(absl::Milliseconds(20));  // polling, with a deadline
    }
    FAIL() << "podsandboxd did not answer:\n" << ReadAll(log);
  }

  std::string endpoint() const { return absl::StrCat("unix://", socket_); }

  std::vector<v1::PodSandbox> ListPods() {
    v1::ListPodSandboxResponse response;
    grpc::Status s = real_->ListPodSandbox(Context().get(), {}, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return {response.items().begin(), response.items().end()};
  }

  // Straight to podsandboxd, past any stub.
  void RemoveAllPods() {
    for (const v1::PodSandbox& pod : ListPods()) {
      v1::StopPodSandboxRequest stop;
      stop.set_pod_sandbox_id(pod.id());
      v1::StopPodSandboxResponse stopped;
      EXPECT_TRUE(real_->StopPodSandbox(Context().get(), stop, &stopped).ok());
      v1::RemovePodSandboxRequest remove;
      remove.set_pod_sandbox_id(pod.id());
      v1::RemovePodSandboxResponse removed;
      EXPECT_TRUE(
          real_->RemovePodSandbox(Context().get(), remove, &removed).ok());
    }
  }

  // Serves a BrokenRuntime on a socket beside the daemon's; returns its
  // endpoint. One per test.
  std::string StartStub(Breakage breakage) {
    broken_ = std::make_unique<BrokenRuntime>(endpoint(), breakage);
    const std::string stub_endpoint =
        absl::StrCat("unix://", base_->Sub("broken.sock"));
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

  std::string ip_forward_;
  std::unique_ptr<sys::TempDir> base_;
  std::string socket_, config_;
  pid_t daemon_ = -1;
  std::unique_ptr<v1::RuntimeService::Stub> real_;
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
