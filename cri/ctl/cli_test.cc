// podsandboxctl's command line without a runtime: each verb's help in
// crictl's spellings, usage errors exit 2 before any RPC, an RPC error
// exits 1 naming its code, and the verbs' output against fake services on
// a real unix socket.
#include "cri/ctl/cli.h"

#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "cri/api.grpc.pb.h"
#include "cri/api.pb.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "sys/testing/temp_dir.h"

namespace podsandbox::cri::ctl {
namespace {

namespace v1 = ::runtime::v1;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

struct CliResult {
  int exit_code;
  std::string out, err;
};

CliResult RunCtl(std::vector<std::string> args) {
  args.insert(args.begin(), "podsandboxctl");
  std::vector<const char*> argv;
  for (const std::string& arg : args) argv.push_back(arg.c_str());
  std::ostringstream out, err;
  const int code = RunCli(static_cast<int>(argv.size()), argv.data(), out, err);
  return {code, out.str(), err.str()};
}

std::vector<std::string> Lines(const std::string& text) {
  return absl::StrSplit(absl::StripTrailingAsciiWhitespace(text), '\n',
                        absl::SkipEmpty());
}

TEST(CliHelpTest, EachVerbHasItsOwnHelpInCrictlSpellings) {
  const struct {
    const char* verb;
    std::vector<const char*> flags;
  } kVerbs[] = {
      {"pods",
       {"-q,--quiet", "--id", "--name", "--namespace", "-s,--state",
        "--label KEY=VALUE", "-o,--output", "{json,yaml,table}", "--no-trunc",
        "-n,--last", "-l,--latest"}},
      {"runp", {"-r,--runtime", "POD-CONFIG"}},
      {"inspectp", {"POD-ID", "-o,--output"}},
      {"stopp", {"POD-ID"}},
      {"rmp", {"POD-ID", "-a,--all"}},
      {"info", {"-o,--output", "{json,yaml}"}},
      {"pull", {"IMAGE", "--creds USERNAME:PASSWORD", "--auth"}},
      {"images", {"-q,--quiet", "--digests", "--no-trunc", "-o,--output"}},
      {"inspecti", {"IMAGE", "-o,--output"}},
      {"rmi", {"IMAGE"}},
      {"imagefsinfo", {"-o,--output"}},
      {"create", {"POD-ID", "CONTAINER-CONFIG", "POD-CONFIG"}},
      {"start", {"CONTAINER-ID"}},
      {"stop", {"CONTAINER-ID", "-t,--timeout SECONDS"}},
      {"rm", {"CONTAINER-ID", "-f,--force", "-a,--all"}},
      {"ps",
       {"-a,--all", "-q,--quiet", "-p,--pod", "--name", "-s,--state",
        "{created,running,exited,unknown}", "--label KEY=VALUE", "--id",
        "-o,--output", "{json,yaml,table}", "--no-trunc", "-l,--latest"}},
      {"inspect", {"CONTAINER-ID", "-o,--output", "{json,yaml}"}},
      {"logs", {"CONTAINER-ID", "-f,--follow", "--tail N", "-t,--timestamps"}},
      {"exec", {"-s,--sync", "--timeout SECONDS", "CONTAINER-ID COMMAND"}},
      {"stats",
       {"-a,--all", "--id", "-p,--pod", "--label", "-s,--seconds",
        "-o,--output"}},
      {"statsp", {"--id", "--label", "-s,--seconds", "-o,--output"}},
      {"update",
       {"CONTAINER-ID", "--memory BYTES", "--cpu-quota", "--cpu-period",
        "--cpu-shares"}},
  };
  for (const auto& verb : kVerbs) {
    CliResult r = RunCtl({verb.verb, "--help"});
    EXPECT_EQ(r.exit_code, 0) << verb.verb;
    EXPECT_THAT(r.out,
                HasSubstr(std::string("Usage: podsandboxctl ") + verb.verb));
    for (const char* flag : verb.flags) {
      EXPECT_THAT(r.out, HasSubstr(flag)) << verb.verb;
    }
    EXPECT_THAT(r.err, IsEmpty());
  }
}

TEST(CliHelpTest, TopLevelHelpListsVerbsAndGlobalFlags) {
  CliResult r = RunCtl({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  for (const char* text :
       {"--endpoint", "-t,--timeout", "--version", "version",  "info",
        "runp",       "stopp",        "rmp",       "inspectp", "pods",
        "pull",       "images",       "inspecti",  "rmi",      "imagefsinfo",
        "nsowner",    "create",       "start",     "stop",     "rm",
        "ps",         "inspect",      "logs",      "exec",     "stats",
        "statsp",     "update"}) {
    EXPECT_THAT(r.out, HasSubstr(text));
  }
}

TEST(CliHelpTest, VersionFlagPrintsVersionCommitAndBuild) {
  CliResult r = RunCtl({"--version"});
  EXPECT_EQ(r.exit_code, 0);
  const std::vector<std::string> lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 3u) << r.out;
  EXPECT_THAT(lines[0], ::testing::StartsWith("podsandboxctl "));
  EXPECT_THAT(lines[1], ::testing::StartsWith("commit: "));
  EXPECT_THAT(lines[2], ::testing::StartsWith("build: "));
}

TEST(CliUsageTest, BadUsageExitsTwoBeforeAnyRpc) {
  // The endpoint serves nothing: a usage error must stop before any call,
  // or the exit code would be 1.
  const std::vector<std::vector<std::string>> kBad = {
      {},
      {"frobnicate"},
      {"pods", "--frobnicate"},
      {"pods", "-o", "xml"},
      {"pods", "--state", "sleepy"},
      {"pods", "--label", "novalue"},
      {"pods", "-n", "-1"},
      {"stopp"},
      {"inspectp"},
      {"rmp"},
      {"rmp", "-a", "abc"},
      {"runp"},
      {"info", "-o", "table"},
      {"pull"},
      {"pull", "busybox", "--creds", "nopassword"},
      {"pull", "busybox", "--creds", "a:b", "--auth", "YTpi"},
      {"--timeout", "soon", "version"},
      {"version", "extra"},
      {"create"},
      {"create", "pod", "c.json"},
      {"start"},
      {"stop"},
      {"stop", "-t", "-1", "abc"},
      {"rm"},
      {"rm", "-a", "abc"},
      {"ps", "--state", "sleepy"},
      {"ps", "-o", "xml"},
      {"inspect"},
      {"inspect", "-o", "table", "abc"},
      {"logs"},
      {"logs", "--tail", "-2", "abc"},
      {"exec"},
      {"exec", "-s"},
      {"exec", "-s", "abc"},
      {"exec", "-s", "--frob", "abc", "ls"},
      {"stats", "-o", "xml"},
      {"statsp", "--seconds", "-1"},
      {"update"},
      {"update", "--memory", "lots", "abc"},
  };
  for (std::vector<std::string> args : kBad) {
    args.insert(args.begin(), {"--endpoint", "unix:///nonexistent.sock"});
    CliResult r = RunCtl(args);
    EXPECT_EQ(r.exit_code, 2) << absl::StrJoin(args, " ") << "\n" << r.err;
    EXPECT_THAT(r.err, Not(IsEmpty())) << absl::StrJoin(args, " ");
    EXPECT_THAT(r.out, IsEmpty()) << absl::StrJoin(args, " ");
  }
}

TEST(CliUsageTest, RpcErrorExitsOneWithTheCodeName) {
  sys::TempDir dir("/tmp");
  CliResult r =
      RunCtl({"--endpoint", dir.Sub("nobody.sock"), "-t", "5s", "version"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("podsandboxctl: version: UNAVAILABLE: "));
}

// Two pods, the newer second; filters applied as a runtime would.
class FakeRuntime final : public v1::RuntimeService::Service {
 public:
  static constexpr char kOld[] =
      "aaaa111100000000000000000000000000000000000000000000000000000000";
  static constexpr char kNew[] =
      "bbbb222200000000000000000000000000000000000000000000000000000000";

  grpc::Status ListPodSandbox(grpc::ServerContext*,
                              const v1::ListPodSandboxRequest* request,
                              v1::ListPodSandboxResponse* response) override {
    for (v1::PodSandbox pod : Pods()) {
      const v1::PodSandboxFilter& filter = request->filter();
      if (filter.has_state() && filter.state().state() != pod.state()) {
        continue;
      }
      bool labels_match = true;
      for (const auto& [key, value] : filter.label_selector()) {
        auto it = pod.labels().find(key);
        labels_match &= it != pod.labels().end() && it->second == value;
      }
      if (labels_match) *response->add_items() = pod;
    }
    return grpc::Status::OK;
  }

  grpc::Status PodSandboxStatus(
      grpc::ServerContext*, const v1::PodSandboxStatusRequest* request,
      v1::PodSandboxStatusResponse* response) override {
    if (request->pod_sandbox_id() != kNew) {
      return grpc::Status(grpc::StatusCode::NOT_FOUND, "no such pod");
    }
    response->mutable_status()->set_id(kNew);
    response->mutable_status()->mutable_metadata()->set_name("new");
    response->mutable_status()->mutable_network()->set_ip("10.0.0.7");
    (*response->mutable_info())["info"] = R"({"pid": 42})";
    return grpc::Status::OK;
  }

  grpc::Status StopPodSandbox(grpc::ServerContext*,
                              const v1::StopPodSandboxRequest* request,
                              v1::StopPodSandboxResponse*) override {
    absl::MutexLock lock(&mu_);
    stopped_.push_back(request->pod_sandbox_id());
    return grpc::Status::OK;
  }

  std::vector<std::string> stopped() {
    absl::MutexLock lock(&mu_);
    return stopped_;
  }

  // Two containers of kNew: kRunning ("web", label tier=front) and the
  // older kExited ("job"). Filters as a runtime applies them.
  static constexpr char kRunning[] =
      "cccc333300000000000000000000000000000000000000000000000000000000";
  static constexpr char kExited[] =
      "dddd444400000000000000000000000000000000000000000000000000000000";

  grpc::Status ListContainers(grpc::ServerContext*,
                              const v1::ListContainersRequest* request,
                              v1::ListContainersResponse* response) override {
    const v1::ContainerFilter& filter = request->filter();
    for (const v1::Container& c : Containers()) {
      if (!absl::StartsWith(c.id(), filter.id())) continue;
      if (!filter.pod_sandbox_id().empty() &&
          c.pod_sandbox_id() != filter.pod_sandbox_id()) {
        continue;
      }
      if (filter.has_state() && filter.state().state() != c.state()) continue;
      bool labels_match = true;
      for (const auto& [key, value] : filter.label_selector()) {
        auto it = c.labels().find(key);
        labels_match &= it != c.labels().end() && it->second == value;
      }
      if (labels_match) *response->add_containers() = c;
    }
    return grpc::Status::OK;
  }

  grpc::Status ContainerStatus(grpc::ServerContext*,
                               const v1::ContainerStatusRequest* request,
                               v1::ContainerStatusResponse* response) override {
    for (const v1::Container& c : Containers()) {
      if (c.id() != request->container_id()) continue;
      v1::ContainerStatus* status = response->mutable_status();
      status->set_id(c.id());
      *status->mutable_metadata() = c.metadata();
      status->set_state(c.state());
      status->set_exit_code(c.state() == v1::CONTAINER_EXITED ? 3 : 0);
      absl::MutexLock lock(&mu_);
      status->set_log_path(log_path_);
      status->mutable_resources()->mutable_linux()->set_cpu_period(100000);
      status->mutable_resources()->mutable_linux()->set_memory_limit_in_bytes(
          1000);
      if (request->verbose())
        (*response->mutable_info())["info"] = R"({"pid": 7})";
      return grpc::Status::OK;
    }
    return grpc::Status(grpc::StatusCode::NOT_FOUND, "no such container");
  }

  grpc::Status CreateContainer(grpc::ServerContext*,
                               const v1::CreateContainerRequest* request,
                               v1::CreateContainerResponse* response) override {
    absl::MutexLock lock(&mu_);
    created_ = *request;
    response->set_container_id(kRunning);
    return grpc::Status::OK;
  }

  grpc::Status StartContainer(grpc::ServerContext*,
                              const v1::StartContainerRequest* request,
                              v1::StartContainerResponse*) override {
    return Record(absl::StrCat("start ", request->container_id()));
  }

  grpc::Status StopContainer(grpc::ServerContext*,
                             const v1::StopContainerRequest* request,
                             v1::StopContainerResponse*) override {
    return Record(absl::StrCat("stop ", request->container_id(), " ",
                               request->timeout()));
  }

  grpc::Status RemoveContainer(grpc::ServerContext*,
                               const v1::RemoveContainerRequest* request,
                               v1::RemoveContainerResponse*) override {
    return Record(absl::StrCat("rm ", request->container_id()));
  }

  grpc::Status UpdateContainerResources(
      grpc::ServerContext*, const v1::UpdateContainerResourcesRequest* request,
      v1::UpdateContainerResourcesResponse*) override {
    const v1::LinuxContainerResources& r = request->linux();
    return Record(absl::StrCat(
        "update ", request->container_id(),
        " memory=", r.memory_limit_in_bytes(), " period=", r.cpu_period(),
        " quota=", r.cpu_quota(), " shares=", r.cpu_shares()));
  }

  grpc::Status ExecSync(grpc::ServerContext*,
                        const v1::ExecSyncRequest* request,
                        v1::ExecSyncResponse* response) override {
    std::vector<std::string> cmd(request->cmd().begin(), request->cmd().end());
    Record(absl::StrCat("exec ", request->container_id(), " timeout=",
                        request->timeout(), " ", absl::StrJoin(cmd, "|")))
        .IgnoreError();  // always OK
    response->set_stdout("hi\n");
    response->set_stderr("oops\n");
    response->set_exit_code(3);
    return grpc::Status::OK;
  }

  grpc::Status ListContainerStats(
      grpc::ServerContext*, const v1::ListContainerStatsRequest*,
      v1::ListContainerStatsResponse* response) override {
    for (const v1::Container& c : Containers()) {
      v1::ContainerStats* s = response->add_stats();
      s->mutable_attributes()->set_id(c.id());
      *s->mutable_attributes()->mutable_metadata() = c.metadata();
      s->mutable_cpu()->set_timestamp(1);
      s->mutable_cpu()->mutable_usage_nano_cores()->set_value(250000000);
      s->mutable_memory()->mutable_working_set_bytes()->set_value(2500000);
      s->mutable_writable_layer()->mutable_used_bytes()->set_value(4096);
      s->mutable_writable_layer()->mutable_inodes_used()->set_value(5);
    }
    return grpc::Status::OK;
  }

  grpc::Status ListPodSandboxStats(
      grpc::ServerContext*, const v1::ListPodSandboxStatsRequest* request,
      v1::ListPodSandboxStatsResponse* response) override {
    if (!request->filter().id().empty() && request->filter().id() != kNew) {
      return grpc::Status::OK;
    }
    v1::PodSandboxStats* s = response->add_stats();
    s->mutable_attributes()->set_id(kNew);
    s->mutable_attributes()->mutable_metadata()->set_name("new");
    s->mutable_linux()
        ->mutable_memory()
        ->mutable_working_set_bytes()
        ->set_value(3000000);
    v1::NetworkInterfaceUsage* eth0 =
        s->mutable_linux()->mutable_network()->mutable_default_interface();
    eth0->set_name("eth0");
    eth0->mutable_rx_bytes()->set_value(1500);
    eth0->mutable_tx_bytes()->set_value(700);
    return grpc::Status::OK;
  }

  std::vector<std::string> calls() {
    absl::MutexLock lock(&mu_);
    return calls_;
  }
  v1::CreateContainerRequest created() {
    absl::MutexLock lock(&mu_);
    return created_;
  }
  void set_log_path(const std::string& path) {
    absl::MutexLock lock(&mu_);
    log_path_ = path;
  }

 private:
  static std::vector<v1::PodSandbox> Pods() {
    std::vector<v1::PodSandbox> pods(2);
    pods[0].set_id(kOld);
    pods[0].set_created_at(1);
    pods[0].set_state(v1::SANDBOX_NOTREADY);
    pods[0].mutable_metadata()->set_name("old");
    pods[0].mutable_metadata()->set_namespace_("default");
    pods[1].set_id(kNew);
    pods[1].set_created_at(2);
    pods[1].mutable_metadata()->set_name("new");
    pods[1].mutable_metadata()->set_namespace_("kube-system");
    (*pods[1].mutable_labels())["app"] = "web";
    return pods;
  }

  static std::vector<v1::Container> Containers() {
    std::vector<v1::Container> containers(2);
    containers[0].set_id(kRunning);
    containers[0].set_pod_sandbox_id(kNew);
    containers[0].set_created_at(20);
    containers[0].set_state(v1::CONTAINER_RUNNING);
    containers[0].mutable_metadata()->set_name("web");
    containers[0].mutable_image()->set_image("registry.local/busybox:1");
    (*containers[0].mutable_labels())["tier"] = "front";
    containers[1].set_id(kExited);
    containers[1].set_pod_sandbox_id(kNew);
    containers[1].set_created_at(10);
    containers[1].set_state(v1::CONTAINER_EXITED);
    containers[1].mutable_metadata()->set_name("job");
    containers[1].mutable_image()->set_image("registry.local/busybox:1");
    return containers;
  }

  grpc::Status Record(std::string call) {
    absl::MutexLock lock(&mu_);
    calls_.push_back(std::move(call));
    return grpc::Status::OK;
  }

  absl::Mutex mu_;
  std::vector<std::string> stopped_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> calls_ ABSL_GUARDED_BY(mu_);
  v1::CreateContainerRequest created_ ABSL_GUARDED_BY(mu_);
  std::string log_path_ ABSL_GUARDED_BY(mu_);
};

class FakeImages final : public v1::ImageService::Service {
 public:
  grpc::Status PullImage(grpc::ServerContext*,
                         const v1::PullImageRequest* request,
                         v1::PullImageResponse* response) override {
    if (request->auth().username() != "alice" ||
        request->auth().password() != "s:cret") {
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "bad creds");
    }
    response->set_image_ref("sha256:feedbeef");
    return grpc::Status::OK;
  }

  grpc::Status ListImages(grpc::ServerContext*, const v1::ListImagesRequest*,
                          v1::ListImagesResponse* response) override {
    v1::Image* image = response->add_images();
    image->set_id(
        "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd"
        "ef");
    image->add_repo_tags("registry.local:5000/library/busybox:1.36");
    image->add_repo_digests(
        "registry.local:5000/library/busybox@sha256:"
        "99998888777766665555444433332222");
    image->set_size(1240000);
    return grpc::Status::OK;
  }

  grpc::Status ImageStatus(grpc::ServerContext*, const v1::ImageStatusRequest*,
                           v1::ImageStatusResponse*) override {
    return grpc::Status::OK;  // absent
  }
};

class CliVerbTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("unix://" + socket_,
                             grpc::InsecureServerCredentials());
    builder.RegisterService(&runtime_);
    builder.RegisterService(&images_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
  }
  void TearDown() override { server_->Shutdown(); }

  CliResult Ctl(std::vector<std::string> args) {
    args.insert(args.begin(), {"--endpoint", socket_});
    return RunCtl(args);
  }

  sys::TempDir dir_{"/tmp"};  // a unix socket path must fit in 108 bytes
  const std::string socket_ = dir_.Sub("cri.sock");
  FakeRuntime runtime_;
  FakeImages images_;
  std::unique_ptr<grpc::Server> server_;
};

TEST_F(CliVerbTest, PodsQuietNewestFirstAndFiltered) {
  CliResult r = Ctl({"pods", "-q"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(Lines(r.out), ElementsAre(FakeRuntime::kNew, FakeRuntime::kOld));
  EXPECT_THAT(Lines(Ctl({"pods", "-q", "--label", "app=web"}).out),
              ElementsAre(FakeRuntime::kNew));
  EXPECT_THAT(Lines(Ctl({"pods", "-q", "--state", "NotReady"}).out),
              ElementsAre(FakeRuntime::kOld));
  EXPECT_THAT(Lines(Ctl({"pods", "-q", "--name", "ol"}).out),
              ElementsAre(FakeRuntime::kOld));
  EXPECT_THAT(Lines(Ctl({"pods", "-q", "--namespace", "kube"}).out),
              ElementsAre(FakeRuntime::kNew));
  EXPECT_THAT(Lines(Ctl({"pods", "-q", "--id", "aaaa"}).out),
              ElementsAre(FakeRuntime::kOld));
  EXPECT_THAT(Lines(Ctl({"pods", "-q", "--latest"}).out),
              ElementsAre(FakeRuntime::kNew));
}

TEST_F(CliVerbTest, PodsTableJsonAndYaml) {
  CliResult table = Ctl({"pods"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  const std::vector<std::string> rows = Lines(table.out);
  ASSERT_EQ(rows.size(), 3u) << table.out;
  EXPECT_THAT(rows[0], HasSubstr("POD ID"));
  EXPECT_THAT(rows[1], ::testing::StartsWith("bbbb222200000  "));
  EXPECT_THAT(rows[1], HasSubstr("Ready"));

  CliResult as_json = Ctl({"pods", "-o", "json"});
  ASSERT_EQ(as_json.exit_code, 0) << as_json.err;
  const nlohmann::json j = nlohmann::json::parse(as_json.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << as_json.out;
  ASSERT_EQ(j["items"].size(), 2u);
  EXPECT_EQ(j["items"][0]["id"], FakeRuntime::kNew);
  EXPECT_EQ(j["items"][0]["metadata"]["name"], "new");

  CliResult as_yaml = Ctl({"pods", "--output", "yaml"});
  ASSERT_EQ(as_yaml.exit_code, 0) << as_yaml.err;
  EXPECT_THAT(as_yaml.out, HasSubstr("items:\n  - "));
  EXPECT_THAT(as_yaml.out, HasSubstr(std::string("id: ") + FakeRuntime::kNew));
}

TEST_F(CliVerbTest, InspectpResolvesAPrefix) {
  CliResult r = Ctl({"inspectp", "bbbb"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.out;
  EXPECT_EQ(j["status"]["id"], FakeRuntime::kNew);
  EXPECT_EQ(j["info"]["pid"], 42);

  r = Ctl({"inspectp", "-o", "table", "bbbb"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("IP Addresses: 10.0.0.7"));

  // A prefix of both pods is refused by the client: exit 1, its code.
  r = Ctl({"inspectp", ""});
  EXPECT_EQ(r.exit_code, 1);
  r = Ctl({"inspectp", "cccc"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("inspectp: NOT_FOUND: no such pod"));
}

TEST_F(CliVerbTest, StoppSendsFullIds) {
  CliResult r = Ctl({"stopp", "aaaa", "bbbb"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(runtime_.stopped(),
              ElementsAre(FakeRuntime::kOld, FakeRuntime::kNew));
  EXPECT_THAT(r.out,
              HasSubstr(std::string("Stopped sandbox ") + FakeRuntime::kOld));
}

TEST_F(CliVerbTest, ImagesTableAsCrictl) {
  CliResult r = Ctl({"images", "--digests"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<std::string> rows = Lines(r.out);
  ASSERT_EQ(rows.size(), 2u) << r.out;
  EXPECT_THAT(rows[0], HasSubstr("IMAGE"));
  EXPECT_THAT(rows[0], HasSubstr("DIGEST"));
  // The registry's port stays in the repository; the tag is after it.
  EXPECT_THAT(rows[1], ::testing::MatchesRegex(
                           "registry.local:5000/library/busybox +1.36 +"
                           "9999888877776 +0123456789abc +1.24MB"));
  r = Ctl({"images", "-q"});
  EXPECT_THAT(Lines(r.out), ElementsAre(::testing::StartsWith("sha256:0123")));
}

TEST_F(CliVerbTest, PullSendsCredsSplitAtTheFirstColon) {
  CliResult r = Ctl({"pull", "--creds", "alice:s:cret", "busybox"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "Image is up to date for sha256:feedbeef\n");
  r = Ctl({"pull", "busybox"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("pull: UNAUTHENTICATED: bad creds"));
}

TEST_F(CliVerbTest, InspectiOfAnAbsentImageIsNotFound) {
  CliResult r = Ctl({"inspecti", "nothere"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("inspecti: NOT_FOUND: no such image nothere"));
}

TEST(CliExecTest, ExecWithoutSyncIsUnimplementedWithoutAnRpc) {
  // Nobody serves the endpoint: an RPC would be UNAVAILABLE.
  CliResult r = RunCtl({"--endpoint", "unix:///nonexistent.sock", "exec", "abc",
                        "sh", "-c", "ls"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("podsandboxctl: exec: UNIMPLEMENTED: only exec "
                               "-s/--sync (ExecSync) is supported"));
}

TEST_F(CliVerbTest, PsShowsRunningByDefaultAndFiltersAsCrictl) {
  CliResult r = Ctl({"ps", "-q"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(Lines(r.out), ElementsAre(FakeRuntime::kRunning));
  EXPECT_THAT(Lines(Ctl({"ps", "-a", "-q"}).out),
              ElementsAre(FakeRuntime::kRunning, FakeRuntime::kExited));
  EXPECT_THAT(Lines(Ctl({"ps", "-q", "--state", "Exited"}).out),
              ElementsAre(FakeRuntime::kExited));
  EXPECT_THAT(Lines(Ctl({"ps", "-aq", "--name", "jo"}).out),
              ElementsAre(FakeRuntime::kExited));
  EXPECT_THAT(Lines(Ctl({"ps", "-aq", "--label", "tier=front"}).out),
              ElementsAre(FakeRuntime::kRunning));
  EXPECT_THAT(Lines(Ctl({"ps", "-aq", "--pod", "bbbb"}).out),
              ElementsAre(FakeRuntime::kRunning, FakeRuntime::kExited));
  EXPECT_THAT(Lines(Ctl({"ps", "-aq", "--pod", "aaaa"}).out), IsEmpty());
  EXPECT_THAT(Lines(Ctl({"ps", "-aq", "--id", "dddd"}).out),
              ElementsAre(FakeRuntime::kExited));
  EXPECT_THAT(Lines(Ctl({"ps", "-aq", "--latest"}).out),
              ElementsAre(FakeRuntime::kRunning));

  r = Ctl({"ps", "-a"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<std::string> rows = Lines(r.out);
  ASSERT_EQ(rows.size(), 3u) << r.out;
  EXPECT_THAT(rows[0], ::testing::MatchesRegex(
                           "CONTAINER +IMAGE +CREATED +STATE +NAME +ATTEMPT "
                           "+POD ID +POD"));
  EXPECT_THAT(rows[1], ::testing::MatchesRegex(
                           "cccc333300000 +registry.local/busybox:1 +.* ago "
                           "+Running +web +0 +bbbb222200000 +new"));
  EXPECT_THAT(rows[2], HasSubstr("Exited"));

  r = Ctl({"ps", "-a", "-o", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.out;
  ASSERT_EQ(j["containers"].size(), 2u);
  EXPECT_EQ(j["containers"][0]["state"], "CONTAINER_RUNNING");
  r = Ctl({"ps", "-o", "yaml"});
  EXPECT_THAT(r.out, HasSubstr("containers:\n  - "));
}

TEST_F(CliVerbTest, CreateSendsBothFilesAndTheFullPodId) {
  const std::string container = dir_.Sub("c.json");
  const std::string pod = dir_.Sub("p.json");
  std::ofstream(container) << R"({"metadata": {"name": "web"},
      "image": {"image": "busybox"}, "command": ["sh"], "log_path": "web.log"})";
  std::ofstream(pod) << R"({"metadata": {"name": "new", "uid": "u"},
      "log_directory": "/tmp/logs"})";
  CliResult r = Ctl({"create", "bbbb", container, pod});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, absl::StrCat(FakeRuntime::kRunning, "\n"));
  const v1::CreateContainerRequest sent = runtime_.created();
  EXPECT_EQ(sent.pod_sandbox_id(), FakeRuntime::kNew);
  EXPECT_EQ(sent.config().metadata().name(), "web");
  EXPECT_EQ(sent.config().log_path(), "web.log");
  EXPECT_EQ(sent.sandbox_config().log_directory(), "/tmp/logs");

  // A file that is not ContainerConfig JSON: exit 1 before any RPC.
  std::ofstream(container) << R"({"metadata": {"nom": "web"}})";
  r = Ctl({"create", "bbbb", container, pod});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("create: INVALID_ARGUMENT: parse "));
  r = Ctl({"create", "bbbb", dir_.Sub("none.json"), pod});
  EXPECT_THAT(r.err, HasSubstr("create: NOT_FOUND: open "));
}

TEST_F(CliVerbTest, StartStopAndRmResolvePrefixes) {
  CliResult r = Ctl({"start", "cccc"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, absl::StrCat(FakeRuntime::kRunning, "\n"));
  r = Ctl({"stop", "-t", "7", "cccc", "dddd"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // A running container is refused by rm without -f, before any removal.
  r = Ctl({"rm", "dddd", "cccc"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("rm: FAILED_PRECONDITION: container "));
  r = Ctl({"rm", "-a"});
  EXPECT_EQ(r.exit_code, 1);
  r = Ctl({"rm", "dddd"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = Ctl({"rm", "-f", "cccc"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, absl::StrCat(FakeRuntime::kRunning, "\n"));
  EXPECT_THAT(runtime_.calls(),
              ElementsAre(absl::StrCat("start ", FakeRuntime::kRunning),
                          absl::StrCat("stop ", FakeRuntime::kRunning, " 7"),
                          absl::StrCat("stop ", FakeRuntime::kExited, " 7"),
                          absl::StrCat("rm ", FakeRuntime::kExited),
                          absl::StrCat("stop ", FakeRuntime::kRunning, " 0"),
                          absl::StrCat("rm ", FakeRuntime::kRunning)));
  r = Ctl({"start", "eeee"});
  EXPECT_EQ(r.exit_code, 0) << "an unknown id goes to the runtime as is";
}

TEST_F(CliVerbTest, InspectPrintsStatusAndParsedInfo) {
  CliResult r = Ctl({"inspect", "dddd"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.out;
  EXPECT_EQ(j["status"]["id"], FakeRuntime::kExited);
  EXPECT_EQ(j["status"]["state"], "CONTAINER_EXITED");
  EXPECT_EQ(j["status"]["exitCode"], 3);
  EXPECT_EQ(j["info"]["pid"], 7);
  r = Ctl({"inspect", "-o", "yaml", "dddd"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("exitCode: 3"));
  r = Ctl({"inspect", "ffff"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("inspect: NOT_FOUND: no such container"));
}

TEST_F(CliVerbTest, LogsSplitsStreamsJoinsPartialLinesAndTails) {
  const std::string log = dir_.Sub("0.log");
  std::ofstream(log) << "2026-11-29T04:00:00.000000001Z stdout F one\n"
                        "2026-11-29T04:00:00.000000002Z stderr F two\n"
                        "2026-11-29T04:00:00.000000003Z stdout P thr\n"
                        "2026-11-29T04:00:00.000000004Z stdout F ee\n"
                        "2026-11-29T04:00:00.000000005Z stdout F \n"
                        "2026-11-29T04:00:00.000000006Z stdout F last\n";
  runtime_.set_log_path(log);
  CliResult r = Ctl({"logs", "dddd"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "one\nthree\n\nlast\n");
  EXPECT_EQ(r.err, "two\n");
  r = Ctl({"logs", "--tail", "1", "dddd"});
  EXPECT_EQ(r.out, "last\n");
  r = Ctl({"logs", "--tail", "0", "-t", "dddd"});
  EXPECT_EQ(r.out, "");
  r = Ctl({"logs", "--timestamps", "--tail", "1", "dddd"});
  EXPECT_EQ(r.out, "2026-11-29T04:00:00.000000006Z last\n");
  // The container has exited: --follow ends once the file is read.
  r = Ctl({"logs", "-f", "dddd"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "one\nthree\n\nlast\n");

  runtime_.set_log_path(dir_.Sub("gone.log"));
  r = Ctl({"logs", "dddd"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("logs: NOT_FOUND: open log file "));
}

TEST_F(CliVerbTest, ExecSyncPassesOutputAndExitsWithTheCommandsCode) {
  CliResult r =
      Ctl({"exec", "-s", "--timeout", "5", "cccc", "sh", "-c", "ls -l"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.out, "hi\n");
  EXPECT_EQ(r.err, "oops\n");
  r = Ctl({"exec", "--sync", "cccc", "--", "id", "-u"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_THAT(runtime_.calls(),
              ElementsAre(absl::StrCat("exec ", FakeRuntime::kRunning,
                                       " timeout=5 sh|-c|ls -l"),
                          absl::StrCat("exec ", FakeRuntime::kRunning,
                                       " timeout=0 id|-u")));
}

TEST_F(CliVerbTest, StatsAndStatspTablesAndJson) {
  CliResult r = Ctl({"stats", "-s", "0"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> rows = Lines(r.out);
  ASSERT_EQ(rows.size(), 2u) << r.out;
  EXPECT_THAT(rows[0], ::testing::MatchesRegex(
                           "CONTAINER +NAME +CPU % +MEM +DISK +INODES"));
  EXPECT_THAT(rows[1], ::testing::MatchesRegex(
                           "cccc333300000 +web +25.00 +2.5MB +4.096kB +5"));
  r = Ctl({"stats", "-a", "-o", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.out;
  EXPECT_EQ(j["stats"].size(), 2u);

  r = Ctl({"statsp", "-s", "0"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  rows = Lines(r.out);
  ASSERT_EQ(rows.size(), 2u) << r.out;
  EXPECT_THAT(rows[1], ::testing::MatchesRegex(
                           "new +bbbb222200000 +- +3MB +1.5kB +700B"));
  r = Ctl({"statsp", "--id", "bbbb", "-o", "yaml"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("name: eth0"));
}

TEST_F(CliVerbTest, UpdateChangesOnlyTheFlaggedResources) {
  CliResult r =
      Ctl({"update", "--memory", "2000", "--cpu-quota", "-1", "cccc"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, absl::StrCat(FakeRuntime::kRunning, "\n"));
  EXPECT_THAT(runtime_.calls(),
              ElementsAre(absl::StrCat("update ", FakeRuntime::kRunning,
                                       " memory=2000 period=100000 quota=-1 "
                                       "shares=0")));
}

TEST_F(CliVerbTest, GlobalFlagsMayFollowTheVerb) {
  CliResult r = RunCtl({"pods", "-q", "--endpoint", socket_, "-t", "30s"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Lines(r.out).size(), 2u);
}

}  // namespace
}  // namespace podsandbox::cri::ctl
