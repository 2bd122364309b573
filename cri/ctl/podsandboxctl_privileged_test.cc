// podsandboxctl against the real podsandboxd (runc, a bridge CNI network):
// a pod's whole life through the CLI, runp, pods (-q, filters, -o json and
// yaml), inspectp (by a prefix, -o json and yaml), nsowner, stopp and rmp,
// each checked against what the daemon itself lists over gRPC, and the
// exit codes of an RPC error (1) and of bad usage (2). Needs root.
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "cri/api.pb.h"
#include "cri/testing/podsandboxd_fixture.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "sys/real_sys.h"
#include "sys/subprocess.h"

namespace podsandbox::cri {
namespace {

namespace v1 = ::runtime::v1;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

PodsandboxdTestBase::Options FixtureOptions() {
  PodsandboxdTestBase::Options options;
  options.bridge = "psbctlcli0";
  options.subnet = "10.243.0.0/24";
  options.network_name = "psb-ctl-test";
  return options;
}

std::string Readlink(const std::string& path) {
  char buf[256];
  const ssize_t n = readlink(path.c_str(), buf, sizeof(buf) - 1);
  return n < 0 ? "" : std::string(buf, n);
}

std::vector<std::string> Lines(const std::string& text) {
  return absl::StrSplit(absl::StripTrailingAsciiWhitespace(text), '\n',
                        absl::SkipEmpty());
}

class PodsandboxctlTest : public PodsandboxdTestBase {
 protected:
  PodsandboxctlTest() : PodsandboxdTestBase(FixtureOptions()) {}

  // podsandboxctl with `args`, reaching our daemon through --endpoint.
  sys::SubprocessResult Ctl(std::vector<std::string> args) {
    args.insert(args.begin(), {"podsandboxctl", "--endpoint", endpoint()});
    sys::Command command{Runfile("cri/podsandboxctl"), args};
    command.timeout = absl::Minutes(3);
    sys::RealSys sys;
    absl::StatusOr<sys::SubprocessResult> result =
        sys::RunSubprocess(sys, command);
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? *result : sys::SubprocessResult{};
  }

  // runp's output: the new pod's id.
  std::string Runp(std::vector<std::string> args) {
    args.insert(args.begin(), "runp");
    sys::SubprocessResult r = Ctl(args);
    EXPECT_EQ(r.exit_code, 0) << r.stderr_data;
    return std::string(absl::StripAsciiWhitespace(r.stdout_data));
  }

  // The ids the daemon lists over gRPC: the truth the CLI is checked with.
  std::vector<std::string> ListedIds() {
    std::vector<std::string> ids;
    for (const v1::PodSandbox& pod : ListPods()) ids.push_back(pod.id());
    return ids;
  }
};

TEST_F(PodsandboxctlTest, PodLifecycleThroughTheCli) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon());

  const std::string userns =
      Runp({"-r", "runc", Runfile("testdata/pods/pod-userns.json")});
  const std::string plain = Runp({Runfile("testdata/pods/pod.json")});
  ASSERT_EQ(userns.size(), 64u);
  ASSERT_EQ(plain.size(), 64u);
  ASSERT_THAT(ListedIds(), UnorderedElementsAre(userns, plain));

  // pods -q: what the daemon lists; the label filter picks one.
  sys::SubprocessResult r = Ctl({"pods", "-q"});
  ASSERT_EQ(r.exit_code, 0) << r.stderr_data;
  EXPECT_THAT(Lines(r.stdout_data), UnorderedElementsAre(userns, plain));
  r = Ctl({"pods", "-q", "--label", "userns=pod"});
  EXPECT_THAT(Lines(r.stdout_data), ElementsAre(userns));
  r = Ctl({"pods", "-q", "--name", "demo-userns"});
  EXPECT_THAT(Lines(r.stdout_data), ElementsAre(userns));
  r = Ctl({"pods", "-q", "--state", "notready"});
  EXPECT_THAT(Lines(r.stdout_data), IsEmpty());

  // pods -o json: the ListPodSandbox items, crictl's shape.
  r = Ctl({"pods", "-o", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.stderr_data;
  nlohmann::json pods = nlohmann::json::parse(r.stdout_data, nullptr, false);
  ASSERT_FALSE(pods.is_discarded()) << r.stdout_data;
  ASSERT_EQ(pods["items"].size(), 2u) << r.stdout_data;
  std::vector<std::string> json_ids;
  for (const nlohmann::json& pod : pods["items"]) {
    json_ids.push_back(pod["id"]);
    EXPECT_EQ(pod["state"], "SANDBOX_READY");
    EXPECT_EQ(pod["metadata"]["namespace"], "default");
  }
  EXPECT_THAT(json_ids, UnorderedElementsAre(userns, plain));
  r = Ctl({"pods", "-o", "yaml", "--id", plain.substr(0, 8)});
  ASSERT_EQ(r.exit_code, 0) << r.stderr_data;
  EXPECT_THAT(r.stdout_data, HasSubstr(absl::StrCat("id: ", plain)));
  EXPECT_THAT(r.stdout_data, HasSubstr("state: SANDBOX_READY"));

  // inspectp by a prefix: the status and the verbose info.
  r = Ctl({"inspectp", userns.substr(0, 10)});
  ASSERT_EQ(r.exit_code, 0) << r.stderr_data;
  nlohmann::json inspect = nlohmann::json::parse(r.stdout_data, nullptr, false);
  ASSERT_FALSE(inspect.is_discarded()) << r.stdout_data;
  EXPECT_EQ(inspect["status"]["id"], userns);
  EXPECT_EQ(inspect["status"]["state"], "SANDBOX_READY");
  EXPECT_EQ(inspect["status"]["metadata"]["name"], "demo-userns");
  EXPECT_TRUE(absl::StartsWith(
      inspect["status"]["network"]["ip"].get<std::string>(), "10.243.0."))
      << inspect["status"]["network"];
  const int pid = inspect["info"]["pid"].get<int>();
  ASSERT_GT(pid, 0);

  // nsowner: the pod's netns is owned by the pod's user namespace.
  r = Ctl({"nsowner", inspect["info"]["netNamespacePath"].get<std::string>()});
  ASSERT_EQ(r.exit_code, 0) << r.stderr_data;
  const std::string pod_userns =
      Readlink(absl::StrCat("/proc/", pid, "/ns/user"));
  EXPECT_EQ(absl::StripAsciiWhitespace(r.stdout_data), pod_userns);
  EXPECT_NE(pod_userns, Readlink("/proc/self/ns/user"));
  r = Ctl({"inspectp", "-o", "yaml", plain});
  ASSERT_EQ(r.exit_code, 0) << r.stderr_data;
  EXPECT_THAT(r.stdout_data, HasSubstr("state: SANDBOX_READY"));

  // Errors: an RPC's is 1 with its code, bad usage 2 with no RPC made.
  r = Ctl({"inspectp", std::string(64, 'e')});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.stderr_data, HasSubstr("inspectp: NOT_FOUND"));
  r = Ctl({"pods", "-o", "xml"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.stdout_data, IsEmpty());

  // stopp: both NotReady, as the daemon lists them.
  r = Ctl({"stopp", userns, plain.substr(0, 12)});
  ASSERT_EQ(r.exit_code, 0) << r.stderr_data;
  EXPECT_THAT(Lines(r.stdout_data), ElementsAre("Stopped sandbox " + userns,
                                                "Stopped sandbox " + plain));
  r = Ctl({"pods", "-q", "--state", "notready"});
  EXPECT_THAT(Lines(r.stdout_data), UnorderedElementsAre(userns, plain));
  v1::PodSandboxFilter ready;
  ready.mutable_state()->set_state(v1::SANDBOX_READY);
  EXPECT_THAT(ListPods(ready), IsEmpty());

  // rmp: gone from the daemon too.
  r = Ctl({"rmp", userns, plain});
  ASSERT_EQ(r.exit_code, 0) << r.stderr_data;
  EXPECT_THAT(Lines(r.stdout_data), ElementsAre("Removed sandbox " + userns,
                                                "Removed sandbox " + plain));
  EXPECT_THAT(ListedIds(), IsEmpty());
  r = Ctl({"pods", "-q"});
  EXPECT_EQ(r.exit_code, 0) << r.stderr_data;
  EXPECT_THAT(Lines(r.stdout_data), IsEmpty());
}

TEST_F(PodsandboxctlTest, RmpAllRemovesEveryPod) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon());
  const std::string id = Runp({Runfile("testdata/pods/pod.json")});
  ASSERT_THAT(ListedIds(), ElementsAre(id));
  sys::SubprocessResult r = Ctl({"rmp", "--all"});
  ASSERT_EQ(r.exit_code, 0) << r.stderr_data;
  EXPECT_EQ(r.stdout_data, absl::StrCat("Removed sandbox ", id, "\n"));
  EXPECT_THAT(ListedIds(), IsEmpty());
}

}  // namespace
}  // namespace podsandbox::cri
