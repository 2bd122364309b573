// PodSandboxStats and ListPodSandboxStats end to end through the real
// podsandboxd: a user-namespaced pod under a cgroup_parent (as kubelet
// makes one), a busybox container burning CPU in it, UDP datagrams sent
// from the host to the pod's address. The numbers must move, the rate must
// appear from the second sample, and the interface reported as eth0 must be
// the pod's (its counters sandwiched by the pause's /proc/<pid>/net/dev,
// which shows the pod's netns; the host has an eth0 of its own), with no
// other interface but loopback. Filters and a stopped pod too; the
// fixture's leak check proves nothing is left.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "cri/api.grpc.pb.h"
#include "cri/testing/container_fixture.h"
#include "cri/testing/podsandboxd_fixture.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "sys/cgroup_layout.h"
#include "sys/file.h"

namespace podsandbox::cri {
namespace {

namespace v1 = ::runtime::v1;

constexpr uint32_t kHostBase = 420000;
constexpr char kCgroupParent[] = "/psb-pod-stats-test";

PodsandboxdTestBase::Options FixtureOptions(bool cgroup_v2_only) {
  PodsandboxdTestBase::Options options;
  options.cgroup_v2_only = cgroup_v2_only;
  options.bridge = "psbstat0";
  options.subnet = "10.247.0.0/24";
  options.network_name = "psb-pod-stats-test";
  return options;
}

v1::PodSandboxConfig UsernsPod(const std::string& log_directory) {
  v1::PodSandboxConfig config = UsernsPodConfig("stats", kHostBase);
  config.set_log_directory(log_directory);
  (*config.mutable_labels())["app"] = "stats";
  config.mutable_linux()->set_cgroup_parent(kCgroupParent);
  return config;
}

// eth0's rx and tx bytes in a /proc/<pid>/net/dev text; {0, 0} if absent.
std::pair<uint64_t, uint64_t> Eth0Bytes(const std::string& net_dev) {
  for (absl::string_view line : absl::StrSplit(net_dev, '\n')) {
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(line, absl::MaxSplits(':', 1));
    if (absl::StripAsciiWhitespace(kv.first) != "eth0") continue;
    std::vector<absl::string_view> f =
        absl::StrSplit(kv.second, ' ', absl::SkipEmpty());
    uint64_t rx = 0, tx = 0;
    if (f.size() > 8 && absl::SimpleAtoi(f[0], &rx) &&
        absl::SimpleAtoi(f[8], &tx)) {
      return {rx, tx};
    }
  }
  return {0, 0};
}

// The parameter: the daemon on a pure cgroup v2 layout (the fixture's
// private mount namespace), or on the host's.
class PodStatsTest : public ContainerTestBase,
                     public ::testing::WithParamInterface<bool> {
 protected:
  PodStatsTest() : ContainerTestBase(FixtureOptions(GetParam())) {}

  // Whether the pod's memory is counted: on the v2 layout only if the
  // unified tree has the memory controller (a hybrid host binds it to its
  // v1 hierarchy, and the v2 layout here is that host's cgroup2 alone).
  bool MemoryCounted() const {
    if (!GetParam()) return true;
    absl::StatusOr<std::string> controllers =
        sys::ReadFile(std::string(sys::kCgroupRoot) + "/cgroup.controllers");
    if (!controllers.ok()) {
      controllers = sys::ReadFile(std::string(sys::kCgroupRoot) +
                                  "/unified/cgroup.controllers");
    }
    return controllers.ok() && absl::StrContains(*controllers, "memory");
  }

  void SetUp() override {
    PodsandboxdTestBase::SetUp();
    // runc makes the pod's cgroup_parent and never removes it (kubelet
    // owns it); the cgroups below it must be gone after the test.
    WatchCgroup(kCgroupParent);
  }

  void CleanUpTestFixtures() override {
    // What kubelet would do with its pod cgroup once the pod is gone.
    if (absl::StatusOr<std::vector<std::string>> dirs =
            sys::HostCgroupDirectories(kCgroupParent);
        dirs.ok()) {
      for (const std::string& dir : *dirs) ::rmdir(dir.c_str());
    }
    PodsandboxdTestBase::CleanUpTestFixtures();
  }

  // Creates and starts a container running `script` in the pod.
  std::string RunContainer(const std::string& pod_id,
                           const v1::PodSandboxConfig& pod,
                           const std::string& name, const std::string& script) {
    v1::CreateContainerRequest request =
        ShellContainer(pod_id, pod, name, script);
    v1::CreateContainerResponse created;
    grpc::Status s = runtime_service().CreateContainer(RpcContext().get(),
                                                       request, &created);
    EXPECT_TRUE(s.ok()) << s.error_message() << "\n" << DaemonLog();
    v1::StartContainerRequest start;
    start.set_container_id(created.container_id());
    v1::StartContainerResponse started;
    s = runtime_service().StartContainer(RpcContext().get(), start, &started);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return created.container_id();
  }

  v1::PodSandboxStats Stats(const std::string& pod_id) {
    v1::PodSandboxStatsRequest request;
    request.set_pod_sandbox_id(pod_id);
    v1::PodSandboxStatsResponse response;
    grpc::Status s = runtime_service().PodSandboxStats(RpcContext().get(),
                                                       request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return response.stats();
  }

  std::vector<v1::PodSandboxStats> List(const v1::PodSandboxStatsFilter& f) {
    v1::ListPodSandboxStatsRequest request;
    *request.mutable_filter() = f;
    v1::ListPodSandboxStatsResponse response;
    grpc::Status s = runtime_service().ListPodSandboxStats(RpcContext().get(),
                                                           request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return {response.stats().begin(), response.stats().end()};
  }
};

TEST_P(PodStatsTest, NumbersMoveAndTheInterfaceIsThePodsEth0) {
  ASSERT_NO_FATAL_FAILURE(StartDaemonWithImage());
  const std::string logs = base().Sub("logs");
  ASSERT_EQ(::mkdir(logs.c_str(), 0755), 0);
  const v1::PodSandboxConfig pod = UsernsPod(logs);
  v1::RunPodSandboxRequest run;
  *run.mutable_config() = pod;
  v1::RunPodSandboxResponse ran;
  grpc::Status s =
      runtime_service().RunPodSandbox(RpcContext().get(), run, &ran);
  ASSERT_TRUE(s.ok()) << s.error_message() << "\n" << DaemonLog();
  const std::string pod_id = ran.pod_sandbox_id();
  v1::PodSandboxStatusRequest status_request;
  status_request.set_pod_sandbox_id(pod_id);
  status_request.set_verbose(true);
  v1::PodSandboxStatusResponse status;
  ASSERT_TRUE(runtime_service()
                  .PodSandboxStatus(RpcContext().get(), status_request, &status)
                  .ok());
  const std::string pod_ip = status.status().network().ip();
  ASSERT_FALSE(pod_ip.empty());
  nlohmann::json info =
      nlohmann::json::parse(status.info().at("info"), nullptr, false);
  ASSERT_TRUE(info.is_object());
  const int pause = info.value("pid", 0);
  ASSERT_GT(pause, 0);

  // The pause alone: its process, no rate yet, the pod's attributes.
  v1::PodSandboxStats first = Stats(pod_id);
  EXPECT_EQ(first.attributes().id(), pod_id);
  EXPECT_EQ(first.attributes().metadata().name(), "stats");
  EXPECT_EQ(first.attributes().labels().at("app"), "stats");
  EXPECT_GE(first.linux().process().process_count().value(), 1u);
  EXPECT_FALSE(first.linux().cpu().has_usage_nano_cores());
  EXPECT_EQ(first.linux().network().default_interface().name(), "eth0");
  // The host has many links (its own eth0, the test bridge, veths); the
  // pod has lo and eth0 only.
  EXPECT_EQ(first.linux().network().interfaces_size(), 0)
      << first.DebugString();

  // A container that burns a core.
  const std::string burner =
      RunContainer(pod_id, pod, "burn", "while :; do :; done");
  ASSERT_FALSE(burner.empty());

  // Datagrams to the pod's address (nobody listens: the pod answers with
  // ICMP port unreachable, so it transmits too).
  const uint64_t rx_before =
      first.linux().network().default_interface().rx_bytes().value();
  const uint64_t tx_before =
      first.linux().network().default_interface().tx_bytes().value();
  int sock = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(sock, 0);
  sockaddr_in to = {};
  to.sin_family = AF_INET;
  to.sin_port = htons(9);
  ASSERT_EQ(::inet_pton(AF_INET, pod_ip.c_str(), &to.sin_addr), 1);
  constexpr int kDatagrams = 200;
  constexpr size_t kPayload = 1000;
  const std::string payload(kPayload, 'x');
  for (int i = 0; i < kDatagrams; ++i) {
    ASSERT_EQ(::sendto(sock, payload.data(), payload.size(), 0,
                       reinterpret_cast<const sockaddr*>(&to), sizeof(to)),
              static_cast<ssize_t>(kPayload));
  }
  ::close(sock);

  // Poll until the CPU moved by a tenth of a second and the datagrams
  // arrived: the rate is there from the second sample on.
  v1::PodSandboxStats later;
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (absl::Now() < deadline) {
    later = Stats(pod_id);
    const v1::LinuxPodSandboxStats& l = later.linux();
    if (l.cpu().usage_core_nano_seconds().value() >=
            first.linux().cpu().usage_core_nano_seconds().value() +
                100'000'000 &&
        l.cpu().usage_nano_cores().value() > 0 &&
        l.network().default_interface().rx_bytes().value() >=
            rx_before + kDatagrams * kPayload &&
        l.containers_size() == 1 &&
        l.containers(0).cpu().usage_nano_cores().value() > 0) {
      break;
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
  const v1::LinuxPodSandboxStats& l = later.linux();
  EXPECT_GE(l.cpu().usage_core_nano_seconds().value(),
            first.linux().cpu().usage_core_nano_seconds().value() + 100'000'000)
      << later.DebugString() << DaemonLog();
  // A busy loop runs most of a core (two on this machine at most).
  EXPECT_GT(l.cpu().usage_nano_cores().value(), 100'000'000u);
  EXPECT_LE(l.cpu().usage_nano_cores().value(), 16'000'000'000u);
  EXPECT_GE(l.network().default_interface().rx_bytes().value(),
            rx_before + kDatagrams * kPayload);
  EXPECT_GT(l.network().default_interface().tx_bytes().value(), tx_before);
  EXPECT_EQ(l.network().interfaces_size(), 0);
  ASSERT_EQ(l.containers_size(), 1);
  EXPECT_EQ(l.containers(0).attributes().id(), burner);
  EXPECT_GT(l.containers(0).cpu().usage_nano_cores().value(), 0u);
  EXPECT_GE(l.process().process_count().value(), 2u);  // pause + sh
  EXPECT_GE(l.memory().usage_bytes().value(),
            l.memory().working_set_bytes().value());
  EXPECT_TRUE(l.memory().has_rss_bytes());
  if (MemoryCounted()) {
    EXPECT_GT(l.memory().working_set_bytes().value(), 0u);
    EXPECT_GT(l.memory().page_faults().value(), 0u);
    // The container's own, from its cgroup.
    EXPECT_GT(l.containers(0).memory().page_faults().value(), 0u);
    EXPECT_TRUE(l.containers(0).memory().has_rss_bytes());
  }

  // ListContainerStats shares the container's samples: it has a rate too.
  v1::ListContainerStatsResponse container_stats;
  ASSERT_TRUE(runtime_service()
                  .ListContainerStats(RpcContext().get(), {}, &container_stats)
                  .ok());
  ASSERT_EQ(container_stats.stats_size(), 1);
  EXPECT_TRUE(container_stats.stats(0).cpu().has_usage_nano_cores());

  // The counters are the pod's eth0: the pause's view of its netns reads
  // no less before and no more after (the host's eth0 counts other
  // traffic, and never our datagrams).
  const std::string net_dev = absl::StrCat("/proc/", pause, "/net/dev");
  std::pair<uint64_t, uint64_t> before = Eth0Bytes(ReadAll(net_dev));
  v1::PodSandboxStats sandwiched = Stats(pod_id);
  std::pair<uint64_t, uint64_t> after = Eth0Bytes(ReadAll(net_dev));
  const v1::NetworkInterfaceUsage& eth0 =
      sandwiched.linux().network().default_interface();
  EXPECT_LE(before.first, eth0.rx_bytes().value());
  EXPECT_LE(eth0.rx_bytes().value(), after.first);
  EXPECT_LE(before.second, eth0.tx_bytes().value());
  EXPECT_LE(eth0.tx_bytes().value(), after.second);
  EXPECT_GE(before.first, rx_before + kDatagrams * kPayload);

  // Filters: a unique id prefix, the full id, labels; and what matches
  // nothing.
  v1::PodSandboxStatsFilter filter;
  EXPECT_EQ(List(filter).size(), 1u);
  filter.set_id(pod_id.substr(0, 8));
  ASSERT_EQ(List(filter).size(), 1u);
  EXPECT_EQ(List(filter)[0].attributes().id(), pod_id);
  filter.set_id(pod_id);
  EXPECT_EQ(List(filter).size(), 1u);
  (*filter.mutable_label_selector())["app"] = "stats";
  EXPECT_EQ(List(filter).size(), 1u);
  (*filter.mutable_label_selector())["app"] = "other";
  EXPECT_EQ(List(filter).size(), 0u);
  filter.Clear();
  filter.set_id("0000000000000000");
  EXPECT_EQ(List(filter).size(), 0u);

  // A stopped pod has nothing to read: refused alone, left out of lists.
  ASSERT_TRUE(StopPod(pod_id).ok());
  v1::PodSandboxStatsRequest request;
  request.set_pod_sandbox_id(pod_id);
  v1::PodSandboxStatsResponse response;
  EXPECT_EQ(runtime_service()
                .PodSandboxStats(RpcContext().get(), request, &response)
                .error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(List({}).size(), 0u);
  request.set_pod_sandbox_id("ffffffffffffffff");
  EXPECT_EQ(runtime_service()
                .PodSandboxStats(RpcContext().get(), request, &response)
                .error_code(),
            grpc::StatusCode::NOT_FOUND);
  ASSERT_TRUE(RemovePod(pod_id).ok());
  s = RemoveImage();
  EXPECT_TRUE(s.ok()) << s.error_message();
}

INSTANTIATE_TEST_SUITE_P(Layouts, PodStatsTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "CgroupV2" : "HostLayout";
                         });

}  // namespace
}  // namespace podsandbox::cri
