// podsandboxctl against the real podsandboxd (runc, a bridge CNI network):
// a pod's whole life through the CLI, runp, pods (-q, filters, -o json and
// yaml), inspectp (by a prefix, -o json and yaml), nsowner, stopp and rmp,
// each checked against what the daemon itself lists over gRPC, and the
// exit codes of an RPC error (1) and of bad usage (2); then a container's
// life in a user-namespaced pod, its busybox image built by image/testing
// and pulled from a real registry: create, start, ps, logs, exec -s,
// stats, statsp, update, inspect, stop, rm. Needs root.
#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "cri/api.grpc.pb.h"
#include "cri/api.pb.h"
#include "cri/testing/container_fixture.h"
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

class PodsandboxctlTest : public ContainerTestBase {
 protected:
  PodsandboxctlTest() : ContainerTestBase(FixtureOptions()) {}

  // A crictl container file for `script` run by busybox's sh.
  std::string WriteContainerConfig(const std::string& name,
                                   const std::string& script) {
    const nlohmann::json config = {
        {"metadata", {{"name", name}}},
        {"image", {{"image", image_}}},
        {"command", {"/bin/sh", "-c", script}},
        {"log_path", name + "/0.log"},
        {"labels", {{"app", name}}},
    };
    const std::string path = base().Sub(name + ".json");
    WriteAll(path, config.dump());
    return path;
  }

  // `args`' output as JSON; fails the test unless it exits 0.
  nlohmann::json CtlJson(std::vector<std::string> args) {
    sys::SubprocessResult r = Ctl(args);
    EXPECT_EQ(r.exit_code, 0) << r.stderr_data;
    nlohmann::json j = nlohmann::json::parse(r.stdout_data, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r.stdout_data;
    return j.is_discarded() ? nlohmann::json::object() : j;
  }

  // The container's state as `inspect` prints it, polled until it is
  // `want` or 30 s passed.
  std::string WaitForState(const std::string& id, const std::string& want) {
    std::string state;
    for (absl::Time deadline = absl::Now() + absl::Seconds(30);
         absl::Now() < deadline; absl::SleepFor(absl::Milliseconds(50))) {
      state = CtlJson({"inspect", id})["status"]["state"];
      if (state == want) break;
    }
    return state;
  }

  // The containers the daemon lists over gRPC.
  std::vector<std::string> ListedContainers() {
    v1::ListContainersResponse response;
    grpc::Status s =
        runtime_service().ListContainers(RpcContext().get(), {}, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    std::vector<std::string> ids;
    for (const v1::Container& c : response.containers()) ids.push_back(c.id());
    return ids;
  }

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

TEST_F(PodsandboxctlTest, ContainerLifeThroughTheCli) {
  ASSERT_NO_FATAL_FAILURE(SetUpImage());
  ASSERT_NO_FATAL_FAILURE(StartDaemon());
  sys::SubprocessResult r = Ctl({"pull", image_});
  ASSERT_EQ(r.exit_code, 0) << r.stderr_data;

  // The user-namespaced pod file, its containers' logs in our directory.
  const std::string logs = base().Sub("logs");
  ASSERT_EQ(::mkdir(logs.c_str(), 0755), 0);
  nlohmann::json pod = nlohmann::json::parse(
      ReadAll(Runfile("testdata/pods/pod-userns.json")), nullptr, false);
  ASSERT_FALSE(pod.is_discarded());
  pod["log_directory"] = logs;
  const std::string pod_file = base().Sub("pod.json");
  WriteAll(pod_file, pod.dump());
  const std::string pod_id = Runp({pod_file});
  ASSERT_EQ(pod_id.size(), 64u);

  // create (the pod by a prefix), then start: ps shows it running.
  const std::string hello_file = WriteContainerConfig(
      "hello",
      "echo out; echo err >&2; cat /proc/self/uid_map; echo ready; "
      "while [ ! -e /stop ]; do sleep 0.1; done; echo bye; exit 3");
  r = Ctl({"create", pod_id.substr(0, 10), hello_file, pod_file});
  ASSERT_EQ(r.exit_code, 0) << r.stderr_data << DaemonLog();
  const std::string hello(absl::StripAsciiWhitespace(r.stdout_data));
  ASSERT_EQ(hello.size(), 64u) << r.stdout_data;
  EXPECT_THAT(ListedContainers(), ElementsAre(hello));
  EXPECT_THAT(Lines(Ctl({"ps", "-q"}).stdout_data), IsEmpty())
      << "created, not running";
  EXPECT_THAT(Lines(Ctl({"ps", "-a", "-q"}).stdout_data), ElementsAre(hello));
  r = Ctl({"start", hello.substr(0, 12)});
  ASSERT_EQ(r.exit_code, 0) << r.stderr_data;
  EXPECT_EQ(r.stdout_data, hello + "\n");
  ASSERT_EQ(WaitForState(hello, "CONTAINER_RUNNING"), "CONTAINER_RUNNING");
  r = Ctl({"ps", "--pod", pod_id.substr(0, 8)});
  ASSERT_EQ(r.exit_code, 0) << r.stderr_data;
  std::vector<std::string> rows = Lines(r.stdout_data);
  ASSERT_EQ(rows.size(), 2u) << r.stdout_data;
  EXPECT_THAT(rows[1], HasSubstr("Running"));
  EXPECT_THAT(rows[1], HasSubstr("hello"));
  EXPECT_THAT(rows[1], HasSubstr("demo-userns"));

  // logs: stdout and stderr apart, the uid_map of the pod's user namespace.
  for (absl::Time deadline = absl::Now() + absl::Seconds(30);
       absl::Now() < deadline; absl::SleepFor(absl::Milliseconds(50))) {
    r = Ctl({"logs", hello});
    if (absl::StrContains(r.stdout_data, "ready")) break;
  }
  ASSERT_EQ(r.exit_code, 0) << r.stderr_data;
  EXPECT_THAT(Lines(r.stdout_data),
              ElementsAre("out", "         0     100000      65536", "ready"));
  EXPECT_EQ(r.stderr_data, "err\n");
  EXPECT_EQ(Ctl({"logs", "--tail", "1", hello}).stdout_data, "ready\n");

  // exec -s: root inside, the command's exit code is ours; no streaming.
  r = Ctl({"exec", "-s", "--timeout", "20", hello, "/bin/sh", "-c",
           "id -u; exit 5"});
  EXPECT_EQ(r.exit_code, 5) << r.stderr_data;
  EXPECT_EQ(r.stdout_data, "0\n");
  r = Ctl({"exec", hello, "id"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.stderr_data, HasSubstr("exec: UNIMPLEMENTED: "));

  // inspect, update, stats, statsp.
  nlohmann::json inspect = CtlJson({"inspect", hello.substr(0, 8)});
  EXPECT_EQ(inspect["status"]["id"], hello);
  EXPECT_EQ(inspect["status"]["logPath"], logs + "/hello/0.log");
  const int pid = inspect["info"]["pid"].get<int>();
  ASSERT_GT(pid, 0);
  struct stat st;
  ASSERT_EQ(::stat(absl::StrCat("/proc/", pid).c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 100000u) << "root inside is 100000 on the host";
  r = Ctl({"update", "--memory", "67108864", hello});
  ASSERT_EQ(r.exit_code, 0) << r.stderr_data;
  inspect = CtlJson({"inspect", "-o", "json", hello});
  EXPECT_EQ(inspect["status"]["resources"]["linux"]["memoryLimitInBytes"],
            "67108864");
  nlohmann::json stats = CtlJson({"stats", "-o", "json"});
  ASSERT_EQ(stats["stats"].size(), 1u) << stats;
  EXPECT_EQ(stats["stats"][0]["attributes"]["id"], hello);
  r = Ctl({"stats", "-s", "0"});
  ASSERT_EQ(r.exit_code, 0) << r.stderr_data;
  EXPECT_THAT(r.stdout_data, HasSubstr("hello"));
  nlohmann::json pod_stats = CtlJson({"statsp", "-o", "json"});
  ASSERT_EQ(pod_stats["stats"].size(), 1u) << pod_stats;
  EXPECT_EQ(pod_stats["stats"][0]["attributes"]["id"], pod_id);

  // rm refuses a running container; it ends through an exec, exit code 3.
  r = Ctl({"rm", hello});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.stderr_data, HasSubstr("rm: FAILED_PRECONDITION: "));
  EXPECT_THAT(ListedContainers(), ElementsAre(hello));
  // logs -f follows until the container has ended, its last line too.
  sys::SubprocessResult followed;
  std::thread follow([&] { followed = Ctl({"logs", "-f", hello}); });
  r = Ctl({"exec", "-s", hello, "/bin/sh", "-c", "touch /stop"});
  EXPECT_EQ(r.exit_code, 0) << r.stderr_data;
  follow.join();
  EXPECT_EQ(followed.exit_code, 0) << followed.stderr_data;
  EXPECT_THAT(
      Lines(followed.stdout_data),
      ElementsAre("out", "         0     100000      65536", "ready", "bye"));
  ASSERT_EQ(WaitForState(hello, "CONTAINER_EXITED"), "CONTAINER_EXITED");
  inspect = CtlJson({"inspect", hello});
  EXPECT_EQ(inspect["status"]["exitCode"], 3);
  EXPECT_EQ(inspect["status"]["reason"], "Error");
  EXPECT_THAT(Lines(Ctl({"ps", "-q", "--state", "exited"}).stdout_data),
              ElementsAre(hello));

  // stop: TERM ends a sleeper (not its PID namespace's init: the pod's).
  const std::string sleeper_file =
      WriteContainerConfig("sleeper", "exec sleep 1000");
  r = Ctl({"create", pod_id, sleeper_file, pod_file});
  ASSERT_EQ(r.exit_code, 0) << r.stderr_data;
  const std::string sleeper(absl::StripAsciiWhitespace(r.stdout_data));
  ASSERT_EQ(Ctl({"start", sleeper}).exit_code, 0);
  ASSERT_EQ(WaitForState(sleeper, "CONTAINER_RUNNING"), "CONTAINER_RUNNING");
  r = Ctl({"stop", "-t", "10", sleeper});
  ASSERT_EQ(r.exit_code, 0) << r.stderr_data;
  inspect = CtlJson({"inspect", sleeper});
  EXPECT_EQ(inspect["status"]["state"], "CONTAINER_EXITED");
  EXPECT_EQ(inspect["status"]["exitCode"], 128 + 15);

  // rm -a: both gone from the daemon; then the pod and the image.
  r = Ctl({"rm", "-a"});
  ASSERT_EQ(r.exit_code, 0) << r.stderr_data;
  EXPECT_THAT(Lines(r.stdout_data), UnorderedElementsAre(hello, sleeper));
  EXPECT_THAT(ListedContainers(), IsEmpty());
  EXPECT_THAT(Lines(Ctl({"ps", "-a", "-q"}).stdout_data), IsEmpty());
  ASSERT_EQ(Ctl({"rmp", pod_id}).exit_code, 0);
  r = Ctl({"rmi", image_});
  EXPECT_EQ(r.exit_code, 0) << r.stderr_data;
}

}  // namespace
}  // namespace podsandbox::cri
