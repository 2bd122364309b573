// podsandboxd end to end: the real daemon binary on temporary directories,
// a bridge CNI network and runc, driven over its real unix socket by a
// gRPC client and by podsandboxctl. Needs root.
//
// Every test leaves the host as it found it (LeakCheckedTest): the bridge
// is the one fixture removed by hand; IPAM leases live under the temporary
// directory (host-local's dataDir).
#include <signal.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "cri/api.grpc.pb.h"
#include "cri/api.pb.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "sys/real_sys.h"
#include "sys/subprocess.h"
#include "sys/testing/leak_check.h"
#include "sys/testing/status_matchers.h"
#include "sys/testing/temp_dir.h"

namespace podsandbox::cri {
namespace {

namespace v1 = ::runtime::v1;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kBridge[] = "psbcri0";
constexpr char kSubnetPrefix[] = "10.235.0.";
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

std::string Readlink(const std::string& path) {
  char buf[256];
  const ssize_t n = readlink(path.c_str(), buf, sizeof(buf) - 1);
  return n < 0 ? "" : std::string(buf, n);
}

v1::PodSandboxConfig PodConfig(absl::string_view name, bool userns) {
  v1::PodSandboxConfig config;
  config.mutable_metadata()->set_name(std::string(name));
  config.mutable_metadata()->set_namespace_("test");
  config.mutable_metadata()->set_uid(absl::StrCat("uid-", name));
  config.set_hostname(std::string(name));
  (*config.mutable_labels())["test"] = std::string(name);
  if (userns) {
    v1::UserNamespace* u = config.mutable_linux()
                               ->mutable_security_context()
                               ->mutable_namespace_options()
                               ->mutable_userns_options();
    u->set_mode(v1::POD);
    for (auto* list : {u->mutable_uids(), u->mutable_gids()}) {
      v1::IDMapping* m = list->Add();
      m->set_container_id(0);
      m->set_host_id(100000);
      m->set_length(65536);
    }
  }
  return config;
}

class PodsandboxdTest : public sys::LeakCheckedTest {
 protected:
  void SetUp() override {
    LeakCheckedTest::SetUp();
    ip_forward_ = ReadAll(kIpForward);
    // A user namespace's root must reach the bundle and rootfs under the
    // state dir, so not under $TEST_TMPDIR (/root/..., mode 0700).
    base_ = std::make_unique<sys::TempDir>("/tmp");
    chmod(base_->path().c_str(), 0711);
    root_ = base_->Sub("root");
    state_ = base_->Sub("run");
    socket_ = base_->Sub("run/podsandboxd.sock");
    mkdir(base_->Sub("net.d").c_str(), 0755);
    WriteAll(base_->Sub("net.d/10-test.conflist"),
             absl::StrCat(R"({"cniVersion": "1.0.0", "name": "psb-cri-test",
  "plugins": [{"type": "bridge", "bridge": ")",
                          kBridge, R"(", "isGateway": true,
    "ipMasq": false, "ipam": {"type": "host-local",
    "ranges": [[{"subnet": ")",
                          kSubnetPrefix, R"(0/24"}]],
    "dataDir": ")",
                          base_->Sub("ipam"), R"("}}]})"));
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
  }

  void TearDown() override {
    if (daemon_ > 0) {
      RemoveAllPods();
      StopDaemon(SIGTERM);
    }
    LeakCheckedTest::TearDown();
  }

  void CleanUpTestFixtures() override {
    // The pin directories stay bind-mounted after the daemon exits (pods
    // may still use them); the bridge outlives its last veth.
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

  std::vector<std::string> DaemonArgs() {
    return {"--config",       config_,
            "--root",         root_,
            "--state",        state_,
            "--listen",       socket_,
            "--pause-binary", Runfile("sandbox/pause/pause"),
            "--log-level",    "debug"};
  }

  // Starts podsandboxd and waits until it answers Version.
  void StartDaemon() {
    const std::string log = base_->Sub("daemon.log");
    std::vector<std::string> args = DaemonArgs();
    args.insert(args.begin(), Runfile("cri/podsandboxd"));
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
      // A fresh channel per poll: a channel that failed to connect backs
      // off for seconds before trying again.
      channel_ = grpc::CreateChannel(absl::StrCat("unix://", socket_),
                                     grpc::InsecureChannelCredentials());
      stub_ = v1::RuntimeService::NewStub(channel_);
      int status = 0;
      if (waitpid(daemon_, &status, WNOHANG) == daemon_) {
        daemon_ = -1;
        FAIL() << "podsandboxd exited at start:\n" << ReadAll(log);
      }
      grpc::ClientContext context;
      context.set_deadline(
          absl::ToChronoTime(absl::Now() + absl::Milliseconds(200)));
      v1::VersionResponse response;
      if (stub_->Version(&context, {}, &response).ok()) return;
      absl::SleepFor(absl::Milliseconds(20));  // polling, with a deadline
    }
    FAIL() << "podsandboxd did not answer:\n" << ReadAll(log);
  }

  void StopDaemon(int signal) {
    if (daemon_ <= 0) return;
    kill(daemon_, signal);
    int status = 0;
    waitpid(daemon_, &status, 0);
    daemon_ = -1;
  }

  std::unique_ptr<grpc::ClientContext> Context() {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(120)));
    return context;
  }

  std::string Run(const v1::PodSandboxConfig& config) {
    v1::RunPodSandboxRequest request;
    *request.mutable_config() = config;
    v1::RunPodSandboxResponse response;
    grpc::Status status =
        stub_->RunPodSandbox(Context().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.pod_sandbox_id();
  }

  grpc::Status Status(const std::string& id, v1::PodSandboxStatusResponse* out,
                      bool verbose = true) {
    v1::PodSandboxStatusRequest request;
    request.set_pod_sandbox_id(id);
    request.set_verbose(verbose);
    return stub_->PodSandboxStatus(Context().get(), request, out);
  }

  grpc::Status Stop(const std::string& id) {
    v1::StopPodSandboxRequest request;
    request.set_pod_sandbox_id(id);
    v1::StopPodSandboxResponse response;
    return stub_->StopPodSandbox(Context().get(), request, &response);
  }

  grpc::Status Remove(const std::string& id) {
    v1::RemovePodSandboxRequest request;
    request.set_pod_sandbox_id(id);
    v1::RemovePodSandboxResponse response;
    return stub_->RemovePodSandbox(Context().get(), request, &response);
  }

  std::vector<v1::PodSandbox> List(const v1::PodSandboxFilter& filter = {}) {
    v1::ListPodSandboxRequest request;
    *request.mutable_filter() = filter;
    v1::ListPodSandboxResponse response;
    grpc::Status status =
        stub_->ListPodSandbox(Context().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return {response.items().begin(), response.items().end()};
  }

  void RemoveAllPods() {
    for (const v1::PodSandbox& pod : List()) {
      EXPECT_TRUE(Stop(pod.id()).ok());
      EXPECT_TRUE(Remove(pod.id()).ok());
    }
  }

  // Runs podsandboxctl with PODSANDBOX_ENDPOINT set to our socket.
  sys::SubprocessResult Ctl(std::vector<std::string> args) {
    args.insert(args.begin(), "podsandboxctl");
    sys::Command command{Runfile("cri/podsandboxctl"), args};
    command.env = {absl::StrCat("PODSANDBOX_ENDPOINT=unix://", socket_)};
    command.timeout = absl::Minutes(3);
    sys::RealSys sys;
    absl::StatusOr<sys::SubprocessResult> result =
        sys::RunSubprocess(sys, command);
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? *result : sys::SubprocessResult{};
  }

  // Runs the daemon to completion (it must fail to start).
  sys::SubprocessResult RunDaemonExpectingExit(std::vector<std::string> args) {
    args.insert(args.begin(), "podsandboxd");
    sys::Command command{Runfile("cri/podsandboxd"), args};
    command.timeout = absl::Seconds(30);
    sys::RealSys sys;
    absl::StatusOr<sys::SubprocessResult> result =
        sys::RunSubprocess(sys, command);
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? *result : sys::SubprocessResult{};
  }

  std::string ip_forward_;
  std::unique_ptr<sys::TempDir> base_;
  std::string root_, state_, socket_, config_;
  pid_t daemon_ = -1;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::RuntimeService::Stub> stub_;
};

TEST_F(PodsandboxdTest, EveryRpcOverTheSocket) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon());

  // The socket: 0660, owned by root.
  struct stat st;
  ASSERT_EQ(stat(socket_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0660u);
  EXPECT_EQ(st.st_uid, 0u);

  {
    v1::VersionRequest request;
    request.set_version("v1");
    v1::VersionResponse response;
    ASSERT_TRUE(stub_->Version(Context().get(), request, &response).ok());
    // The kubelet runtime API version, as containerd answers; the CRI
    // version is runtime_api_version.
    EXPECT_EQ(response.version(), "0.1.0");
    EXPECT_EQ(response.runtime_name(), "podsandbox");
    EXPECT_EQ(response.runtime_api_version(), "v1");
    EXPECT_FALSE(response.runtime_version().empty());
  }
  {
    v1::StatusRequest request;
    request.set_verbose(true);
    v1::StatusResponse response;
    ASSERT_TRUE(stub_->Status(Context().get(), request, &response).ok());
    std::map<std::string, bool> conditions;
    for (const v1::RuntimeCondition& c : response.status().conditions()) {
      conditions[c.type()] = c.status();
    }
    EXPECT_TRUE(conditions["RuntimeReady"]);
    EXPECT_TRUE(conditions["NetworkReady"]);
    EXPECT_THAT(response.info().at("config"), HasSubstr("/usr/sbin/runc"));
    ASSERT_GE(response.runtime_handlers_size(), 2);
    EXPECT_EQ(response.runtime_handlers(0).name(), "");
    EXPECT_EQ(response.runtime_handlers(1).name(), "runc");
    EXPECT_TRUE(response.runtime_handlers(1).features().user_namespaces());
  }
  {
    v1::RuntimeConfigResponse response;
    ASSERT_TRUE(stub_->RuntimeConfig(Context().get(), {}, &response).ok());
    EXPECT_EQ(response.linux().cgroup_driver(), v1::CGROUPFS);
  }
  {
    v1::UpdateRuntimeConfigRequest request;
    request.mutable_runtime_config()->mutable_network_config()->set_pod_cidr(
        "10.244.1.0/24,fd00:1::/64");
    v1::UpdateRuntimeConfigResponse response;
    EXPECT_TRUE(
        stub_->UpdateRuntimeConfig(Context().get(), request, &response).ok());
    request.mutable_runtime_config()->mutable_network_config()->set_pod_cidr(
        "10.244.1.0/99");
    grpc::Status bad =
        stub_->UpdateRuntimeConfig(Context().get(), request, &response);
    EXPECT_EQ(bad.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(bad.error_message(),
                HasSubstr("runtime_config.network_config.pod_cidr"));
  }

  // Bad input, each named.
  {
    v1::RunPodSandboxRequest request;
    v1::RunPodSandboxResponse response;
    grpc::Status s = stub_->RunPodSandbox(Context().get(), request, &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(s.error_message(), HasSubstr("config"));

    *request.mutable_config() = PodConfig("bad", false);
    request.mutable_config()
        ->mutable_linux()
        ->mutable_security_context()
        ->mutable_namespace_options()
        ->set_network(static_cast<v1::NamespaceMode>(9));
    s = stub_->RunPodSandbox(Context().get(), request, &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(s.error_message(), HasSubstr("namespace_options.network"));

    *request.mutable_config() = PodConfig("", false);
    s = stub_->RunPodSandbox(Context().get(), request, &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(s.error_message(), HasSubstr("config.metadata.name"));

    *request.mutable_config() = PodConfig("badhandler", false);
    request.set_runtime_handler("/usr/bin/evil");
    s = stub_->RunPodSandbox(Context().get(), request, &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(s.error_message(), HasSubstr("runtime_handler"));
  }

  // Happy path: run, status, list, stop, remove.
  const std::string id = Run(PodConfig("happy", false));
  ASSERT_EQ(id.size(), 64u);
  v1::PodSandboxStatusResponse status;
  ASSERT_TRUE(Status(id, &status).ok());
  EXPECT_EQ(status.status().id(), id);
  EXPECT_EQ(status.status().state(), v1::SANDBOX_READY);
  EXPECT_EQ(status.status().metadata().name(), "happy");
  EXPECT_GT(status.status().created_at(), 0);
  EXPECT_TRUE(absl::StartsWith(status.status().network().ip(), kSubnetPrefix))
      << status.status().network().ip();
  EXPECT_EQ(status.status().runtime_handler(), "runc");
  ASSERT_EQ(status.info().count("info"), 1u);
  nlohmann::json info =
      nlohmann::json::parse(status.info().at("info"), nullptr, false);
  ASSERT_FALSE(info.is_discarded());
  EXPECT_GT(info.value("pid", 0), 0);
  EXPECT_FALSE(info.value("netNamespacePath", "").empty());

  v1::PodSandboxStatusResponse terse;
  ASSERT_TRUE(Status(id, &terse, /*verbose=*/false).ok());
  EXPECT_TRUE(terse.info().empty());

  EXPECT_EQ(List().size(), 1u);
  v1::PodSandboxFilter filter;
  filter.set_id(id);
  EXPECT_EQ(List(filter).size(), 1u);
  filter.mutable_state()->set_state(v1::SANDBOX_NOTREADY);
  EXPECT_EQ(List(filter).size(), 0u);
  filter.Clear();
  (*filter.mutable_label_selector())["test"] = "happy";
  EXPECT_EQ(List(filter).size(), 1u);
  (*filter.mutable_label_selector())["test"] = "other";
  EXPECT_EQ(List(filter).size(), 0u);
  filter.Clear();
  filter.mutable_state()->set_state(static_cast<v1::PodSandboxState>(7));
  {
    v1::ListPodSandboxRequest request;
    *request.mutable_filter() = filter;
    v1::ListPodSandboxResponse response;
    grpc::Status s = stub_->ListPodSandbox(Context().get(), request, &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(s.error_message(), HasSubstr("filter.state.state"));
  }

  ASSERT_TRUE(Stop(id).ok());
  ASSERT_TRUE(Status(id, &status).ok());
  EXPECT_EQ(status.status().state(), v1::SANDBOX_NOTREADY);
  EXPECT_TRUE(Stop(id).ok());  // idempotent
  ASSERT_TRUE(Remove(id).ok());
  EXPECT_TRUE(Remove(id).ok());  // idempotent
  EXPECT_TRUE(List().empty());

  // Unknown ids: Status is NOT_FOUND, Stop and Remove succeed.
  const std::string unknown(64, 'f');
  grpc::Status s = Status(unknown, &status);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_TRUE(Stop(unknown).ok());
  EXPECT_TRUE(Remove(unknown).ok());
  s = Status("", &status);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("pod_sandbox_id"));

  // Container RPCs: UNIMPLEMENTED, naming the RPC.
  {
    v1::CreateContainerResponse response;
    s = stub_->CreateContainer(Context().get(), {}, &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNIMPLEMENTED);
    EXPECT_THAT(s.error_message(), HasSubstr("CreateContainer"));
  }
  {
    v1::ListContainersResponse response;
    s = stub_->ListContainers(Context().get(), {}, &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNIMPLEMENTED);
    EXPECT_THAT(s.error_message(), HasSubstr("ListContainers"));
  }
  {
    v1::ExecSyncResponse response;
    s = stub_->ExecSync(Context().get(), {}, &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNIMPLEMENTED);
    EXPECT_THAT(s.error_message(), HasSubstr("ExecSync"));
  }
  {
    v1::ListPodSandboxStatsResponse response;
    s = stub_->ListPodSandboxStats(Context().get(), {}, &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNIMPLEMENTED);
    EXPECT_THAT(s.error_message(), HasSubstr("ListPodSandboxStats"));
  }
  {
    auto context = Context();
    std::unique_ptr<grpc::ClientReader<v1::ContainerEventResponse>> reader =
        stub_->GetContainerEvents(context.get(), {});
    v1::ContainerEventResponse event;
    EXPECT_FALSE(reader->Read(&event));
    s = reader->Finish();
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNIMPLEMENTED);
    EXPECT_THAT(s.error_message(), HasSubstr("GetContainerEvents"));
  }

  // The ImageService on the same socket: ImageFsInfo, the connection check
  // of crictl, critest and kubelet, is OK and empty; the rest UNIMPLEMENTED.
  {
    std::unique_ptr<v1::ImageService::Stub> images =
        v1::ImageService::NewStub(channel_);
    v1::ImageFsInfoResponse fs_info;
    s = images->ImageFsInfo(Context().get(), {}, &fs_info);
    EXPECT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(fs_info.image_filesystems_size(), 0);
    v1::PullImageResponse pulled;
    s = images->PullImage(Context().get(), {}, &pulled);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNIMPLEMENTED);
    EXPECT_THAT(s.error_message(), HasSubstr("PullImage"));
    EXPECT_THAT(s.error_message(), HasSubstr("keeps no images"));
  }

  // One log line per RPC: method, pod, code, duration.
  StopDaemon(SIGTERM);
  const std::string log = ReadAll(base_->Sub("daemon.log"));
  EXPECT_THAT(log, HasSubstr(absl::StrCat("rpc=RunPodSandbox pod=", id,
                                          " code=OK duration=")));
  EXPECT_THAT(log, HasSubstr("rpc=PodSandboxStatus pod=" + unknown +
                             " code=NOT_FOUND"));
  EXPECT_THAT(log, HasSubstr("rpc=CreateContainer pod= code=UNIMPLEMENTED"));
  EXPECT_THAT(log, HasSubstr("rpc=ImageFsInfo pod= code=OK duration="));
  EXPECT_THAT(log, HasSubstr("rpc=PullImage pod= code=UNIMPLEMENTED"));
  // SIGTERM removes the socket.
  EXPECT_NE(access(socket_.c_str(), F_OK), 0);
}

TEST_F(PodsandboxdTest, PodsandboxctlEndToEnd) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon());

  sys::SubprocessResult r = Ctl({"version"});
  ASSERT_TRUE(r.success()) << r.stderr_data;
  // The first line: RuntimeVersion is 0.1.0 as well.
  EXPECT_THAT(r.stdout_data, StartsWith("Version:  0.1.0\n"));
  EXPECT_THAT(r.stdout_data, HasSubstr("RuntimeName:  podsandbox"));
  EXPECT_THAT(r.stdout_data, HasSubstr("RuntimeApiVersion:  v1"));

  r = Ctl({"info"});
  ASSERT_TRUE(r.success()) << r.stderr_data;
  nlohmann::json info = nlohmann::json::parse(r.stdout_data, nullptr, false);
  ASSERT_FALSE(info.is_discarded()) << r.stdout_data;
  EXPECT_TRUE(info["status"]["conditions"].is_array());
  EXPECT_EQ(info["config"]["root"], root_);

  // The user-namespaced crictl pod file (enums as numbers, which crictl
  // needs and protobuf JSON accepts).
  r = Ctl(
      {"runp", "--runtime", "runc", Runfile("testdata/pods/pod-userns.json")});
  ASSERT_TRUE(r.success()) << r.stderr_data;
  const std::string id(absl::StripAsciiWhitespace(r.stdout_data));
  ASSERT_EQ(id.size(), 64u) << r.stdout_data;

  // And the plain one, through --endpoint rather than the environment.
  sys::Command plain{
      Runfile("cri/podsandboxctl"),
      {"podsandboxctl", "--endpoint", absl::StrCat("unix://", socket_), "runp",
       Runfile("testdata/pods/pod.json")}};
  plain.timeout = absl::Minutes(3);
  sys::RealSys real_sys;
  ASSERT_OK_AND_ASSIGN(sys::SubprocessResult plain_result,
                       sys::RunSubprocess(real_sys, plain));
  ASSERT_TRUE(plain_result.success()) << plain_result.stderr_data;
  const std::string plain_id(
      absl::StripAsciiWhitespace(plain_result.stdout_data));

  r = Ctl({"pods", "-q"});
  ASSERT_TRUE(r.success()) << r.stderr_data;
  EXPECT_THAT(r.stdout_data, HasSubstr(id));
  EXPECT_THAT(r.stdout_data, HasSubstr(plain_id));
  r = Ctl({"pods", "-q", "--label", "userns=pod"});
  EXPECT_EQ(absl::StripAsciiWhitespace(r.stdout_data), id);
  r = Ctl({"pods", "-q", "--state", "notready"});
  EXPECT_EQ(absl::StripAsciiWhitespace(r.stdout_data), "");
  r = Ctl({"pods", "--id", id.substr(0, 12)});
  EXPECT_THAT(r.stdout_data, HasSubstr("demo-userns"));
  EXPECT_THAT(r.stdout_data, HasSubstr("Ready"));

  // inspectp: crictl's shape, with an abbreviated id.
  r = Ctl({"inspectp", id.substr(0, 10)});
  ASSERT_TRUE(r.success()) << r.stderr_data;
  nlohmann::json inspect = nlohmann::json::parse(r.stdout_data, nullptr, false);
  ASSERT_FALSE(inspect.is_discarded()) << r.stdout_data;
  EXPECT_EQ(inspect["status"]["id"], id);
  EXPECT_EQ(inspect["status"]["state"], "SANDBOX_READY");
  EXPECT_EQ(inspect["status"]["metadata"]["name"], "demo-userns");
  const std::string ip = inspect["status"]["network"]["ip"];
  EXPECT_TRUE(absl::StartsWith(ip, kSubnetPrefix)) << ip;
  EXPECT_EQ(inspect["status"]["linux"]["namespaces"]["options"]["usernsOptions"]
                   ["mode"],
            "POD");
  const int pid = inspect["info"]["pid"];
  ASSERT_GT(pid, 0);
  const std::string netns = inspect["info"]["netNamespacePath"];
  EXPECT_EQ(inspect["info"]["userNamespace"]["uidMappings"][0]["hostID"],
            100000);

  // What the kernel did: the pause process's map, and a netns owned by
  // the pod's user namespace rather than the host's.
  std::vector<std::string> uid_map = absl::StrSplit(
      ReadAll(absl::StrCat("/proc/", pid, "/uid_map")), ' ', absl::SkipEmpty());
  ASSERT_EQ(uid_map.size(), 3u);
  EXPECT_EQ(uid_map[0], "0");
  EXPECT_EQ(uid_map[1], "100000");
  EXPECT_EQ(absl::StripAsciiWhitespace(uid_map[2]), "65536");
  r = Ctl({"nsowner", netns});
  ASSERT_TRUE(r.success()) << r.stderr_data;
  const std::string pod_userns =
      Readlink(absl::StrCat("/proc/", pid, "/ns/user"));
  EXPECT_EQ(absl::StripAsciiWhitespace(r.stdout_data), pod_userns);
  EXPECT_NE(pod_userns, Readlink("/proc/self/ns/user"));

  // Errors: gRPC code and message, non-zero exit.
  r = Ctl({"inspectp", std::string(64, 'e')});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.stderr_data, HasSubstr("NOT_FOUND"));
  r = Ctl({"runp", "/nonexistent.json"});
  EXPECT_NE(r.exit_code, 0);
  r = Ctl({"frobnicate"});
  EXPECT_EQ(r.exit_code, 2);

  r = Ctl({"stopp", id, plain_id});
  ASSERT_TRUE(r.success()) << r.stderr_data;
  EXPECT_THAT(r.stdout_data, HasSubstr("Stopped sandbox " + id));
  r = Ctl({"rmp", id, plain_id});
  ASSERT_TRUE(r.success()) << r.stderr_data;
  EXPECT_THAT(r.stdout_data, HasSubstr("Removed sandbox " + plain_id));
  r = Ctl({"pods", "-q"});
  EXPECT_EQ(absl::StripAsciiWhitespace(r.stdout_data), "");
}

TEST_F(PodsandboxdTest, SigkilledDaemonRestartsWithPodsReady) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon());
  const std::string plain = Run(PodConfig("plain", false));
  const std::string userns = Run(PodConfig("userns", true));
  std::map<std::string, std::string> ips;
  for (const std::string& id : {plain, userns}) {
    v1::PodSandboxStatusResponse status;
    ASSERT_TRUE(Status(id, &status).ok());
    ips[id] = status.status().network().ip();
    ASSERT_FALSE(ips[id].empty());
  }

  StopDaemon(SIGKILL);
  // A socket nobody listens on is left: the restart must replace it.
  ASSERT_EQ(access(socket_.c_str(), F_OK), 0);
  ASSERT_NO_FATAL_FAILURE(StartDaemon());

  for (const std::string& id : {plain, userns}) {
    v1::PodSandboxStatusResponse status;
    ASSERT_TRUE(Status(id, &status).ok());
    EXPECT_EQ(status.status().state(), v1::SANDBOX_READY) << id;
    EXPECT_EQ(status.status().network().ip(), ips[id]) << id;
  }
  for (const std::string& id : {plain, userns}) {
    EXPECT_TRUE(Stop(id).ok());
    EXPECT_TRUE(Remove(id).ok());
  }
  EXPECT_TRUE(List().empty());
  // LeakCheckedTest's TearDown checks nothing else is left.
}

TEST_F(PodsandboxdTest, RunPodSandboxFinishesAfterTheClientGaveUp) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon());
  const v1::PodSandboxConfig config = PodConfig("impatient", true);
  {
    // Reaches the daemon, but expires long before a pod can be READY.
    grpc::ClientContext context;
    context.set_deadline(
        absl::ToChronoTime(absl::Now() + absl::Milliseconds(30)));
    v1::RunPodSandboxRequest request;
    *request.mutable_config() = config;
    v1::RunPodSandboxResponse response;
    grpc::Status s = stub_->RunPodSandbox(&context, request, &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  }
  // The daemon carries on: the pod becomes READY without any retry.
  std::vector<v1::PodSandbox> pods;
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (absl::Now() < deadline) {
    pods = List();
    if (pods.size() == 1 && pods[0].state() == v1::SANDBOX_READY) break;
    absl::SleepFor(absl::Milliseconds(20));  // polling, with a deadline
  }
  ASSERT_EQ(pods.size(), 1u);
  EXPECT_EQ(pods[0].state(), v1::SANDBOX_READY);
  // kubelet's retry with the same config gets the same sandbox.
  EXPECT_EQ(Run(config), pods[0].id());
  EXPECT_EQ(List().size(), 1u);
  EXPECT_TRUE(Stop(pods[0].id()).ok());
  EXPECT_TRUE(Remove(pods[0].id()).ok());
}

TEST_F(PodsandboxdTest, StartupErrorsAreClear) {
  // An unknown key in the config file.
  const std::string bad = base_->Sub("bad.toml");
  WriteAll(bad, "root = \"/tmp/x\"\nrot_dir = \"/y\"\n");
  sys::SubprocessResult r = RunDaemonExpectingExit({"--config", bad});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.stderr_data, HasSubstr("rot_dir: unknown key"));

  // A bad value for a flag.
  r = RunDaemonExpectingExit({"--config", config_, "--log-level", "loud"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.stderr_data, HasSubstr("--log-level"));

  // A root that cannot be created: its parent is a regular file.
  const std::string file = base_->Sub("a-file");
  WriteAll(file, "");
  std::vector<std::string> args = DaemonArgs();
  for (size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] == "--root") args[i + 1] = file + "/root";
  }
  r = RunDaemonExpectingExit(args);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.stderr_data, HasSubstr(file));

  // A second daemon on the same root.
  ASSERT_NO_FATAL_FAILURE(StartDaemon());
  args = DaemonArgs();
  for (size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] == "--listen") args[i + 1] = base_->Sub("second.sock");
  }
  r = RunDaemonExpectingExit(args);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.stderr_data, HasSubstr("another podsandbox controller"));
  EXPECT_NE(access(base_->Sub("second.sock").c_str(), F_OK), 0);

  // The first one still serves.
  v1::VersionResponse version;
  EXPECT_TRUE(stub_->Version(Context().get(), {}, &version).ok());
}

TEST_F(PodsandboxdTest, LiveSocketOfAnotherServerIsNotTaken) {
  // Something else already listens on the socket path.
  mkdir(state_.c_str(), 0711);
  const int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  ASSERT_LT(socket_.size(), sizeof(addr.sun_path));
  memcpy(addr.sun_path, socket_.c_str(), socket_.size() + 1);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(fd, 1), 0);
  sys::SubprocessResult r = RunDaemonExpectingExit(DaemonArgs());
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.stderr_data, HasSubstr("another server is accepting"));
  close(fd);
  unlink(socket_.c_str());
}

}  // namespace
}  // namespace podsandbox::cri
