// podsandboxctl's command line without a runtime: each verb's help in
// crictl's spellings, usage errors exit 2 before any RPC, an RPC error
// exits 1 naming its code, and the verbs' output against fake services on
// a real unix socket.
#include "cri/ctl/cli.h"

#include <memory>
#include <sstream>
#include <string>
#include <vector>

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
       {"--endpoint", "-t,--timeout", "--version", "version", "info", "runp",
        "stopp", "rmp", "inspectp", "pods", "pull", "images", "inspecti", "rmi",
        "imagefsinfo", "nsowner"}) {
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

  absl::Mutex mu_;
  std::vector<std::string> stopped_ ABSL_GUARDED_BY(mu_);
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

TEST_F(CliVerbTest, GlobalFlagsMayFollowTheVerb) {
  CliResult r = RunCtl({"pods", "-q", "--endpoint", socket_, "-t", "30s"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Lines(r.out).size(), 2u);
}

}  // namespace
}  // namespace podsandbox::cri::ctl
