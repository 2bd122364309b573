// The harness against real runtimes: every check PASSes against the real
// podsandboxd binary (temporary directories, its own bridge network, runc),
// and every check FAILs against a deliberately broken endpoint, a stub CRI
// server in this test that forwards to that podsandboxd but breaks one
// promise: it drops userns_options (a runtime that accepts and ignores
// them, as containerd 1.6 does), or also puts the pod on the host network
// (so /sys is the host's sysfs), or answers Stop and Remove without doing
// them, or strips the verbose info (a runtime that accepted a user
// namespace and reports nothing checkable FAILs), or strips only the pid
// (the pins remain: the checks SKIP, saying why), or lies about the pid:
// it reports a decoy, a process it made with exactly the requested maps in
// user, UTS, network and mount namespaces of its own (with a sysfs of its
// own netns at /sys), which is not the pod's pause. Needs root.
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/memory/memory.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "cri/api.grpc.pb.h"
#include "cri/api.pb.h"
#include "cri/testing/podsandboxd_fixture.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "harness/check_env.h"
#include "harness/checks.h"
#include "harness/cri_client.h"
#include "harness/kernel_view.h"
#include "harness/pin_probe.h"
#include "harness/userns_checks.h"
#include "nlohmann/json.hpp"
#include "userns/id_mapping.h"

namespace podsandbox::harness {
namespace {

namespace v1 = ::runtime::v1;
using ::podsandbox::cri::RpcContext;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kBridge[] = "psbharn0";
constexpr char kSubnet[] = "10.238.0.0/24";

// How the stub breaks the CRI contract.
enum class Breakage {
  kIgnoreUserns,      // drops userns_options, runs the pod anyway
  kIgnoreNamespaces,  // that, and runs the pod on the host network
  kNoTeardown,        // Stop and Remove answer OK and do nothing
  kNoVerboseInfo,     // PodSandboxStatus without its "info"
  kNoPid,             // "info" without "pid" (the pins stay)
  kDecoyPid,          // "pid" of a decoy with the requested maps
};

// A process that looks like a pod's pause to a check that trusts the pid:
// the requested maps in a user namespace of its own that owns its network
// namespace, its own UTS namespace (hostname `hostname`), and a sysfs of
// its own netns at /sys. It is not the pod's: the pod's netns, userns pin
// and IP are elsewhere. Killed and reaped on destruction.
class Decoy {
 public:
  static absl::StatusOr<std::unique_ptr<Decoy>> Start(
      const v1::UserNamespace& maps, const std::string& hostname) {
    int to_child[2], from_child[2];
    if (pipe2(to_child, O_CLOEXEC) != 0 || pipe2(from_child, O_CLOEXEC) != 0) {
      return absl::ErrnoToStatus(errno, "pipe2");
    }
    // Formatted before the fork: the child of a threaded process makes
    // syscalls only.
    const std::string uid_map = MapText(maps.uids());
    const std::string gid_map = MapText(maps.gids());
    const pid_t pid = fork();
    if (pid < 0) return absl::ErrnoToStatus(errno, "fork");
    if (pid == 0) {
      char c;
      if (unshare(CLONE_NEWUSER) != 0) _exit(10);
      if (write(from_child[1], "u", 1) != 1) _exit(11);
      if (read(to_child[0], &c, 1) != 1) _exit(12);  // maps written
      if (unshare(CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWNET) != 0) _exit(13);
      if (sethostname(hostname.data(), hostname.size()) != 0) _exit(14);
      if (mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
        _exit(15);
      }
      if (mount("sysfs", "/sys", "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV,
                nullptr) != 0) {
        _exit(16);
      }
      if (write(from_child[1], "r", 1) != 1) _exit(17);
      while (true) pause();
    }
    auto decoy = absl::WrapUnique(new Decoy(pid));
    close(to_child[0]);
    close(from_child[1]);
    const int to = to_child[1], from = from_child[0];
    absl::Cleanup close_pipes = [to, from] {
      close(to);
      close(from);
    };
    char c = 0;
    if (read(from, &c, 1) != 1 || c != 'u') {
      return absl::InternalError("decoy: unshare(CLONE_NEWUSER) failed");
    }
    for (const auto& [file, text] :
         {std::pair<std::string, std::string>{"uid_map", uid_map},
          {"gid_map", gid_map}}) {
      cri::WriteAll(absl::StrCat("/proc/", pid, "/", file), text);
    }
    if (write(to, "m", 1) != 1 || read(from, &c, 1) != 1 || c != 'r') {
      return absl::InternalError(
          "decoy: namespaces, hostname or sysfs failed (see its exit code)");
    }
    return decoy;
  }

  ~Decoy() {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }

  pid_t pid() const { return pid_; }

 private:
  explicit Decoy(pid_t pid) : pid_(pid) {}

  static std::string MapText(
      const google::protobuf::RepeatedPtrField<v1::IDMapping>& maps) {
    std::string text;
    for (const v1::IDMapping& m : maps) {
      absl::StrAppend(&text, m.container_id(), " ", m.host_id(), " ",
                      m.length(), "\n");
    }
    return text;
  }

  const pid_t pid_;
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
    grpc::Status s =
        real_->RunPodSandbox(RpcContext().get(), forwarded, response);
    const v1::NamespaceOption& asked =
        request->config().linux().security_context().namespace_options();
    if (s.ok() && breakage_ == Breakage::kDecoyPid &&
        asked.has_userns_options()) {
      // Not the pod's hostname, so that every mark the harness ties a pid
      // to its pod (hostname, netns, userns pin, IP) is seen missing.
      absl::StatusOr<std::unique_ptr<Decoy>> decoy =
          Decoy::Start(asked.userns_options(), "decoy");
      if (!decoy.ok()) {
        return grpc::Status(grpc::StatusCode::INTERNAL,
                            decoy.status().ToString());
      }
      absl::MutexLock lock(&mu_);
      decoys_[response->pod_sandbox_id()] = *std::move(decoy);
    }
    return s;
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
    {
      absl::MutexLock lock(&mu_);
      decoys_.erase(request->pod_sandbox_id());
    }
    return real_->RemovePodSandbox(RpcContext().get(), *request, response);
  }

  grpc::Status PodSandboxStatus(
      grpc::ServerContext*, const v1::PodSandboxStatusRequest* request,
      v1::PodSandboxStatusResponse* response) override {
    grpc::Status s =
        real_->PodSandboxStatus(RpcContext().get(), *request, response);
    if (breakage_ == Breakage::kNoVerboseInfo) response->clear_info();
    auto info = response->mutable_info()->find("info");
    if (info == response->mutable_info()->end()) return s;
    nlohmann::json parsed = nlohmann::json::parse(info->second, nullptr,
                                                  /*allow_exceptions=*/false);
    if (!parsed.is_object()) return s;
    if (breakage_ == Breakage::kNoPid) parsed.erase("pid");
    if (breakage_ == Breakage::kDecoyPid) {
      absl::MutexLock lock(&mu_);
      auto decoy = decoys_.find(request->pod_sandbox_id());
      if (decoy != decoys_.end()) parsed["pid"] = decoy->second->pid();
    }
    info->second = parsed.dump();
    return s;
  }

  // How many decoys have been reported and not yet removed.
  size_t live_decoys() {
    absl::MutexLock lock(&mu_);
    return decoys_.size();
  }

 private:
  std::unique_ptr<v1::RuntimeService::Stub> real_;
  const Breakage breakage_;
  absl::Mutex mu_;
  // By pod id. Killed when their pod is removed, or with the stub.
  std::map<std::string, std::unique_ptr<Decoy>> decoys_ ABSL_GUARDED_BY(mu_);
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

// The same daemon with the builtin runtime (oci/builtin_runtime.h) as its
// default handler: the pause it starts itself passes every check runc's
// does.
class BuiltinHarnessTest : public cri::PodsandboxdTestBase {
 protected:
  static Options BuiltinOptions() {
    Options options = FixtureOptions();
    options.builtin_handler = true;
    options.extra_daemon_args = {"--default-runtime", "builtin"};
    return options;
  }
  BuiltinHarnessTest() : PodsandboxdTestBase(BuiltinOptions()) {}

  void SetUp() override {
    PodsandboxdTestBase::SetUp();
    options_.teardown_timeout = absl::Seconds(2);
    ASSERT_NO_FATAL_FAILURE(StartDaemon());
  }

  HarnessOptions options_;
};

TEST_F(BuiltinHarnessTest, EveryCheckPassesOnBuiltin) {
  CriClient client(endpoint(), absl::Minutes(2));
  absl::StatusOr<std::vector<Check>> checks = SelectChecks("");
  ASSERT_TRUE(checks.ok()) << checks.status();
  std::vector<CheckResult> results = RunChecks(*checks, client, options_);
  ASSERT_EQ(results.size(), AllChecks().size());
  for (const CheckResult& r : results) {
    fprintf(stderr, "%s\n", FormatLine(r, 28).c_str());
    EXPECT_EQ(r.verdict.outcome, Outcome::kPass)
        << r.name << ": " << OutcomeName(r.verdict.outcome) << " "
        << r.verdict.detail;
  }
  EXPECT_TRUE(ListPods().empty());
}

// The checks that start a pod and read its pause, by name: all but the
// refusals (podsandboxd refuses those whatever the stub does).
bool ReadsThePause(const std::string& name) {
  return !absl::StartsWith(name, "refuses_");
}

// The same daemon with a handler whose pods get no pause (infra = "none"):
// every check passes, reading such a pod through a probe in its pins, and
// says so. A host-network pod still gets a pause (nothing to pin its
// namespaces in), and refused requests start nothing.
class NoPauseHarnessTest : public cri::PodsandboxdTestBase {
 protected:
  static Options NoPauseOptions() {
    Options options = FixtureOptions();
    options.no_pause_handler = true;
    return options;
  }
  NoPauseHarnessTest() : PodsandboxdTestBase(NoPauseOptions()) {}

  void SetUp() override {
    PodsandboxdTestBase::SetUp();
    options_.runtime_handler = "nopause";
    // As kubelet asks without shareProcessNamespace: a pod-level PID
    // namespace needs a pause as its init.
    options_.pid_mode = v1::CONTAINER;
    options_.teardown_timeout = absl::Seconds(2);
    ASSERT_NO_FATAL_FAILURE(StartDaemon());
  }

  HarnessOptions options_;
};

TEST_F(NoPauseHarnessTest, EveryCheckPassesThroughThePins) {
  CriClient client(endpoint(), absl::Minutes(2));
  absl::StatusOr<std::vector<Check>> checks = SelectChecks("");
  ASSERT_TRUE(checks.ok()) << checks.status();
  std::vector<CheckResult> results = RunChecks(*checks, client, options_);
  ASSERT_EQ(results.size(), AllChecks().size());
  for (const CheckResult& r : results) {
    fprintf(stderr, "%s\n", FormatLine(r, 28).c_str());
    EXPECT_EQ(r.verdict.outcome, Outcome::kPass)
        << r.name << ": " << OutcomeName(r.verdict.outcome) << " "
        << r.verdict.detail;
    if (ReadsThePause(r.name) && r.name != "host_network_userns") {
      EXPECT_THAT(r.verdict.detail, HasSubstr("pins (no pause): pod "))
          << r.name;
    } else {
      EXPECT_THAT(r.verdict.detail, Not(HasSubstr("pins (no pause)")))
          << r.name;
    }
  }
  // The teardown check checked the pins, not a process, were gone.
  ASSERT_EQ(results.back().name, "teardown_leaves_nothing");
  EXPECT_THAT(results.back().verdict.detail,
              HasSubstr("no pause (\"infra\": \"none\"), probe "));
  EXPECT_THAT(results.back().verdict.detail, HasSubstr("/ns/uts/"));
  EXPECT_THAT(results.back().verdict.detail, HasSubstr("/ns/ipc/"));
  EXPECT_TRUE(ListPods().empty());
}

// What makes the probe a proof: it joins pins only from inside the pinned
// user namespace, so a pin that namespace does not own (here the host's
// UTS namespace) is refused, naming the step, and nothing is left running.
// With the pod's own pins it runs, its /sys the sysfs it mounted, until
// Stop reaps it.
TEST_F(NoPauseHarnessTest, ProbeJoinsOnlyPinsThePodsUserNamespaceOwns) {
  CriClient client(endpoint(), absl::Minutes(2));
  CheckEnv env(client, options_, "probe");
  v1::PodSandboxConfig config = env.NewPod();
  SetUserNamespace(v1::POD, env.SimpleMappings(0), &config);
  absl::StatusOr<std::string> id = env.Run(config);
  ASSERT_TRUE(id.ok()) << id.status();
  absl::Cleanup remove = [&env, id = *id] { env.StopAndRemove(id); };
  absl::StatusOr<PodInfo> info = env.Info(*id);
  ASSERT_TRUE(info.ok()) << info.status();
  ASSERT_EQ(info->infra, "none");
  ASSERT_FALSE(info->pid.has_value());

  Pins pins{info->userns_path, info->netns_path, "/proc/self/ns/uts",
            info->ipc_path};
  absl::StatusOr<std::unique_ptr<PinProbe>> refused = PinProbe::Start(pins);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kPermissionDenied)
      << refused.status();
  EXPECT_THAT(refused.status().message(),
              HasSubstr("join the uts namespace pin"));

  pins.uts = info->uts_path;
  absl::StatusOr<std::unique_ptr<PinProbe>> probe = PinProbe::Start(pins);
  ASSERT_TRUE(probe.ok()) << probe.status();
  const pid_t pid = (*probe)->pid();
  absl::StatusOr<std::vector<MountEntry>> mounts = ReadMountInfo(pid);
  ASSERT_TRUE(mounts.ok()) << mounts.status();
  const MountEntry* sys = FindMount(*mounts, "/sys");
  ASSERT_NE(sys, nullptr);
  EXPECT_EQ(sys->fstype, "sysfs");
  EXPECT_TRUE(IsReadOnly(*sys));
  ASSERT_TRUE((*probe)->Stop().ok());
  EXPECT_NE(::kill(pid, 0), 0) << "probe " << pid << " still there";
  EXPECT_TRUE((*probe)->Stop().ok());  // idempotent
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

TEST_F(HarnessTest, HostNetworkPodIsNotThePodAskedFor) {
  // The stub puts the pod on the host network: its pause shares the host's
  // UTS namespace, so it cannot be the pod that asked for a hostname, and
  // every check that reads the pause says so. (Its /sys, the host's
  // sysfs, is JudgeSysfs's case, covered in checks_test.)
  const std::map<std::string, Verdict> verdicts =
      Run(StartStub(Breakage::kIgnoreNamespaces), "sysfs_mounted");
  ASSERT_EQ(verdicts.count("sysfs_mounted"), 1u);
  EXPECT_EQ(verdicts.at("sysfs_mounted").outcome, Outcome::kFail);
  EXPECT_THAT(verdicts.at("sysfs_mounted").detail,
              HasSubstr("is not that pod's pause: it is in the host's UTS "
                        "namespace"));
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

TEST_F(HarnessTest, ChecksFailWhenTheRuntimeReportsNothingCheckable) {
  const std::map<std::string, Verdict> verdicts =
      Run(StartStub(Breakage::kNoVerboseInfo), "");
  ASSERT_EQ(verdicts.size(), AllChecks().size());
  for (const auto& [name, verdict] : verdicts) {
    if (!ReadsThePause(name)) {
      EXPECT_EQ(verdict.outcome, Outcome::kPass)
          << name << ": " << verdict.detail;
      continue;
    }
    EXPECT_EQ(verdict.outcome, Outcome::kFail)
        << name << ": " << verdict.detail;
    EXPECT_THAT(verdict.detail,
                HasSubstr("accepted a user namespace request but reports "
                          "nothing checkable"))
        << name;
  }
  // So the CLI exits 1, not 0.
  std::vector<CheckResult> results;
  for (const auto& [name, verdict] : verdicts) {
    results.push_back({name, verdict, {}});
  }
  EXPECT_FALSE(NoFailures(results));
  EXPECT_TRUE(ListPods().empty());
}

TEST_F(HarnessTest, ChecksSkipWhenOnlyThePidIsMissing) {
  const std::map<std::string, Verdict> verdicts =
      Run(StartStub(Breakage::kNoPid), "");
  ASSERT_EQ(verdicts.size(), AllChecks().size());
  for (const auto& [name, verdict] : verdicts) {
    if (!ReadsThePause(name)) {
      EXPECT_EQ(verdict.outcome, Outcome::kPass)
          << name << ": " << verdict.detail;
    } else if (name == "host_network_userns") {
      // podsandboxd pins no namespace of a host-network pod (runc makes
      // its user namespace): without the pid nothing is left to check.
      EXPECT_EQ(verdict.outcome, Outcome::kFail)
          << name << ": " << verdict.detail;
      EXPECT_THAT(verdict.detail, HasSubstr("reports nothing checkable"));
    } else {
      EXPECT_EQ(verdict.outcome, Outcome::kSkip)
          << name << ": " << verdict.detail;
      EXPECT_THAT(verdict.detail, HasSubstr("no pause pid")) << name;
      EXPECT_THAT(verdict.detail, HasSubstr("only pins: ")) << name;
    }
  }
  EXPECT_TRUE(ListPods().empty());
}

TEST_F(HarnessTest, DecoyPidWithTheRightMapsIsCaught) {
  // What the decoy is good for: on its own, it passes the maps comparison
  // a pid-trusting harness would make.
  {
    v1::PodSandboxConfig config;
    const userns::IdMappings want = {{{0, 1u << 20, 65536}},
                                     {{0, 1u << 20, 65536}}};
    SetUserNamespace(v1::POD, want, &config);
    absl::StatusOr<std::unique_ptr<Decoy>> decoy = Decoy::Start(
        config.linux().security_context().namespace_options().userns_options(),
        "decoy");
    ASSERT_TRUE(decoy.ok()) << decoy.status();
    const Verdict maps = CompareMaps((*decoy)->pid(), want);
    EXPECT_EQ(maps.outcome, Outcome::kPass) << maps.detail;
  }

  const std::map<std::string, Verdict> verdicts =
      Run(StartStub(Breakage::kDecoyPid), "");
  ASSERT_EQ(verdicts.size(), AllChecks().size());
  for (const auto& [name, verdict] : verdicts) {
    if (!ReadsThePause(name)) {
      EXPECT_EQ(verdict.outcome, Outcome::kPass)
          << name << ": " << verdict.detail;
      continue;
    }
    EXPECT_EQ(verdict.outcome, Outcome::kFail)
        << name << ": " << verdict.detail;
    if (name == "host_network_userns") {
      // podsandboxd reports no pin for a host-network pod, and there is no
      // hostname or pod IP to tie the pid to: the check's own demand (the
      // pause in the host netns) is what fails this decoy. See README.
      EXPECT_THAT(verdict.detail, HasSubstr("is not in the host netns"));
      continue;
    }
    EXPECT_THAT(verdict.detail, HasSubstr("is not that pod's pause: ")) << name;
    // Each mark is checked on its own: all the decoy lacks are named.
    for (const char* mark :
         {"its net namespace net:[", "its user namespace user:[",
          "its hostname is \"decoy\", not the pod's",
          " is on no interface of its netns"}) {
      EXPECT_THAT(verdict.detail, HasSubstr(mark)) << name;
    }
  }
  // Each pod is gone, and its decoy with it.
  EXPECT_EQ(broken_->live_decoys(), 0u);
  EXPECT_TRUE(ListPods().empty());
}

}  // namespace
}  // namespace podsandbox::harness
