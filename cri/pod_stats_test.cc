// PodSandboxStats's computation over fake cgroup trees in a temporary
// directory (v1 as on a hybrid host, and v2), a fake link reader and
// explicit sample times: no root needed.
#include "cri/pod_stats.h"

#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "container/cgroup_stats.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sys/testing/temp_dir.h"

namespace podsandbox::cri {
namespace {

namespace v1 = ::runtime::v1;

constexpr char kParent[] = "/kubepods/pod1";
constexpr char kPod[] = "aaaa";
constexpr char kCtr[] = "bbbb";

// Writes `text` to `path`, making its directories.
void Put(const std::string& path, const std::string& text) {
  std::error_code ignored;  // the write below fails the test instead
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(),
                                      ignored);
  std::ofstream out(path);
  out << text;
  ASSERT_TRUE(out.good()) << path;
}

std::string Procs(int n) {
  std::string out;
  for (int i = 0; i < n; ++i) absl::StrAppend(&out, 1000 + i, "\n");
  return out;
}

// A v1 cgroup `path`: usage, memory.stat (hierarchical totals, and local
// values that must not be used), limit, cpuacct and its own processes.
void PutV1(const std::string& root, const std::string& path, uint64_t usage,
           uint64_t inactive, uint64_t limit, uint64_t cpu, int procs) {
  const std::string memory = absl::StrCat(root, "/memory", path);
  Put(memory + "/memory.usage_in_bytes", absl::StrCat(usage, "\n"));
  Put(memory + "/memory.stat",
      absl::StrCat("rss 1\npgfault 1\ninactive_file 1\ntotal_rss ", usage / 2,
                   "\ntotal_pgfault 700\ntotal_pgmajfault 7\n"
                   "total_inactive_file ",
                   inactive, "\n"));
  Put(memory + "/memory.limit_in_bytes", absl::StrCat(limit, "\n"));
  Put(memory + "/memory.oom_control", "oom_kill_disable 0\noom_kill 0\n");
  Put(absl::StrCat(root, "/cpu,cpuacct", path, "/cpuacct.usage"),
      absl::StrCat(cpu, "\n"));
  Put(absl::StrCat(root, "/pids", path, "/cgroup.procs"), Procs(procs));
}

// A v2 cgroup `path` of the unified tree at `root`.
void PutV2(const std::string& root, const std::string& path, uint64_t usage,
           uint64_t inactive, const std::string& max, uint64_t usec,
           int procs) {
  const std::string dir = absl::StrCat(root, path);
  Put(dir + "/memory.current", absl::StrCat(usage, "\n"));
  Put(dir + "/memory.stat",
      absl::StrCat("anon ", usage / 4, "\nfile 10\ninactive_file ", inactive,
                   "\npgfault 300\npgmajfault 3\n"));
  Put(dir + "/memory.max", max + "\n");
  Put(dir + "/memory.events", "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n");
  Put(dir + "/cpu.stat",
      absl::StrCat("usage_usec ", usec, "\nuser_usec 1\nsystem_usec 1\n"));
  Put(dir + "/cgroup.procs", Procs(procs));
}

CgroupRoots V1Roots(const std::string& root) {
  return CgroupRootsFor(
      sys::CgroupLayout::kHybrid,
      {absl::StrCat(root, "/cpu,cpuacct"), absl::StrCat(root, "/memory"),
       absl::StrCat(root, "/pids")},
      root);
}

TEST(CgroupRootsTest, EachV1ControllerFromItsMountAndV2FromTheRoot) {
  CgroupRoots v1 =
      CgroupRootsFor(sys::CgroupLayout::kV1,
                     {"/sys/fs/cgroup/systemd", "/sys/fs/cgroup/cpu,cpuacct",
                      "/sys/fs/cgroup/memory"},
                     "/sys/fs/cgroup");
  EXPECT_FALSE(v1.unified);
  EXPECT_EQ(v1.cpu, "/sys/fs/cgroup/cpu,cpuacct");
  EXPECT_EQ(v1.memory, "/sys/fs/cgroup/memory");
  // Not mounted under its own name: the conventional path.
  EXPECT_EQ(v1.pids, "/sys/fs/cgroup/pids");
  CgroupRoots v2 = CgroupRootsFor(sys::CgroupLayout::kV2, {}, "/x");
  EXPECT_TRUE(v2.unified);
  EXPECT_EQ(v2.memory, "/x");
  EXPECT_EQ(v2.cpu, "/x");
  EXPECT_EQ(v2.pids, "/x");
  EXPECT_EQ(StatDirsFor(v2, kParent).memory, "/x/kubepods/pod1");
}

TEST(ReadPodCgroupUsageTest, V1PodCgroupIsItsParentsWholeSubtree) {
  sys::TempDir tmp;
  const std::string root = tmp.path();
  PutV1(root, kParent, 10000, 3000, 1 << 20, 5000, 0);
  PutV1(root, absl::StrCat(kParent, "/", kPod), 100, 0, 1 << 20, 50, 1);
  PutV1(root, absl::StrCat(kParent, "/", kCtr), 900, 0, 1 << 20, 450, 2);
  container::CgroupUsage u =
      ReadPodCgroupUsage(V1Roots(root), kParent, kPod, {kCtr});
  // The parent's hierarchical numbers, not a sum over the children.
  EXPECT_EQ(u.memory_usage_bytes, 10000u);
  EXPECT_EQ(u.memory_working_set_bytes, 7000u);
  EXPECT_EQ(u.memory_rss_bytes, 5000u);
  EXPECT_EQ(u.page_faults, 700u);
  EXPECT_EQ(u.major_page_faults, 7u);
  EXPECT_EQ(u.memory_limit_bytes, uint64_t{1} << 20);
  EXPECT_EQ(u.cpu_usage_core_nanos, 5000u);
  // The processes live in the children's cgroups.
  EXPECT_EQ(u.process_count, 3u);
}

TEST(ReadPodCgroupUsageTest, V1PageCounterMaximumIsNoLimit) {
  sys::TempDir tmp;
  PutV1(tmp.path(), kParent, 10, 0, 9223372036854771712u, 1, 1);
  container::CgroupUsage u =
      ReadPodCgroupUsage(V1Roots(tmp.path()), kParent, kPod, {});
  EXPECT_FALSE(u.memory_limit_bytes.has_value());
}

TEST(ReadPodCgroupUsageTest, V2PodCgroup) {
  sys::TempDir tmp;
  const std::string root = tmp.path();
  PutV2(root, kParent, 8000, 2000, "max", 7, 0);
  PutV2(root, absl::StrCat(kParent, "/", kCtr), 8000, 2000, "4096", 7, 4);
  CgroupRoots roots = CgroupRootsFor(sys::CgroupLayout::kV2, {}, root);
  container::CgroupUsage u = ReadPodCgroupUsage(roots, kParent, kPod, {kCtr});
  EXPECT_EQ(u.memory_usage_bytes, 8000u);
  EXPECT_EQ(u.memory_working_set_bytes, 6000u);
  EXPECT_EQ(u.memory_rss_bytes, 2000u);
  EXPECT_EQ(u.page_faults, 300u);
  EXPECT_EQ(u.major_page_faults, 3u);
  EXPECT_FALSE(u.memory_limit_bytes.has_value());  // "max"
  EXPECT_EQ(u.cpu_usage_core_nanos, 7000u);
  EXPECT_EQ(u.process_count, 4u);
}

TEST(ReadPodCgroupUsageTest, WithoutAParentThePausesAndContainersCgroupsAdd) {
  sys::TempDir tmp;
  const std::string root = tmp.path();
  PutV2(root, absl::StrCat("/", kPod), 100, 10, "max", 1, 1);
  PutV2(root, absl::StrCat("/", kCtr), 1000, 100, "max", 2, 2);
  CgroupRoots roots = CgroupRootsFor(sys::CgroupLayout::kV2, {}, root);
  container::CgroupUsage u = ReadPodCgroupUsage(roots, "", kPod, {kCtr});
  EXPECT_EQ(u.memory_usage_bytes, 1100u);
  EXPECT_EQ(u.memory_working_set_bytes, 990u);
  EXPECT_EQ(u.cpu_usage_core_nanos, 3000u);
  EXPECT_EQ(u.process_count, 3u);
  EXPECT_EQ(u.page_faults, 600u);
  EXPECT_FALSE(u.memory_limit_bytes.has_value());
}

TEST(ReadPodCgroupUsageTest, MissingCgroupReadsAsZero) {
  sys::TempDir tmp;
  CgroupRoots roots = CgroupRootsFor(sys::CgroupLayout::kV2, {}, tmp.path());
  container::CgroupUsage u = ReadPodCgroupUsage(roots, kParent, kPod, {});
  EXPECT_EQ(u.memory_usage_bytes, 0u);
  EXPECT_EQ(u.process_count, 0u);
}

TEST(ReadCgroupStatsTest, SubtreeWalkIsBoundedInDepth) {
  sys::TempDir tmp;
  std::string path = kParent;
  // One process at every level, deeper than the walk goes.
  for (int depth = 0; depth <= container::kMaxSubtreeDepth + 3; ++depth) {
    PutV2(tmp.path(), path, 1, 0, "max", 1, 1);
    absl::StrAppend(&path, "/c");
  }
  CgroupRoots roots = CgroupRootsFor(sys::CgroupLayout::kV2, {}, tmp.path());
  container::CgroupUsage u =
      container::ReadCgroupStats(StatDirsFor(roots, kParent), true);
  EXPECT_EQ(u.process_count, container::kMaxSubtreeDepth + 1);
  EXPECT_EQ(container::ReadCgroupStats(StatDirsFor(roots, kParent), false)
                .process_count,
            1u);
}

TEST(CpuSamplerTest, RateBetweenTwoSamples) {
  CpuSampler sampler;
  const absl::Time t0 = absl::FromUnixSeconds(1000);
  EXPECT_EQ(sampler.NanoCores("p", 1'000'000'000, t0), std::nullopt);
  // Half a core for two seconds.
  EXPECT_EQ(sampler.NanoCores("p", 2'000'000'000, t0 + absl::Seconds(2)),
            500'000'000u);
  // Two busy cores for half a second.
  EXPECT_EQ(
      sampler.NanoCores("p", 3'000'000'000, t0 + absl::Milliseconds(2500)),
      2'000'000'000u);
  // An older sample (a concurrent call that read first) changes nothing.
  EXPECT_EQ(sampler.NanoCores("p", 2'500'000'000, t0 + absl::Seconds(1)),
            std::nullopt);
  EXPECT_EQ(sampler.NanoCores("p", 3'100'000'000, t0 + absl::Seconds(3)),
            200'000'000u);
  // Another key starts afresh.
  EXPECT_EQ(sampler.NanoCores("q", 5, t0), std::nullopt);
}

TEST(CpuSamplerTest, CounterGoingBackIsNoRateAndRebases) {
  CpuSampler sampler;
  const absl::Time t0 = absl::FromUnixSeconds(1000);
  EXPECT_EQ(sampler.NanoCores("p", 5'000, t0), std::nullopt);
  EXPECT_EQ(sampler.NanoCores("p", 1'000, t0 + absl::Seconds(1)), std::nullopt);
  EXPECT_EQ(sampler.NanoCores("p", 1'000'001'000, t0 + absl::Seconds(2)),
            1'000'000'000u);
}

TEST(CpuSamplerTest, RetainForgetsTheGone) {
  CpuSampler sampler;
  const absl::Time t0 = absl::FromUnixSeconds(1000);
  sampler.NanoCores("p", 1, t0).reset();
  sampler.NanoCores("q", 1, t0).reset();
  sampler.Retain({"q"});
  EXPECT_EQ(sampler.size(), 1u);
  // "p" is new again.
  EXPECT_EQ(sampler.NanoCores("p", 2, t0 + absl::Seconds(1)), std::nullopt);
  EXPECT_TRUE(sampler.NanoCores("q", 2, t0 + absl::Seconds(1)).has_value());
}

sandbox::SandboxStatus Pod(const std::string& netns) {
  sandbox::SandboxStatus status;
  status.id = kPod;
  status.state = sandbox::SandboxState::kReady;
  status.config.metadata.name = "web";
  status.config.metadata.namespace_ = "ns";
  status.config.metadata.uid = "uid-1";
  status.config.metadata.attempt = 2;
  status.config.labels = {{"app", "web"}};
  status.config.annotations = {{"a", "b"}};
  status.config.cgroup_parent = kParent;
  status.info_json =
      absl::StrCat(R"({"pid": 42, "netNamespacePath": ")", netns, R"("})");
  return status;
}

class FillPodTest : public ::testing::Test {
 protected:
  FillPodTest()
      : reader_(CgroupRootsFor(sys::CgroupLayout::kV2, {}, tmp_.path()),
                [this](absl::string_view path)
                    -> absl::StatusOr<std::vector<netns::LinkStats>> {
                  asked_.push_back(std::string(path));
                  if (!links_.ok()) return links_.status();
                  return *links_;
                }) {
    PutV2(tmp_.path(), kParent, 8000, 2000, "10000", 3, 0);
    PutV2(tmp_.path(), absl::StrCat(kParent, "/", kPod), 1, 0, "max", 1, 1);
  }

  sys::TempDir tmp_;
  absl::StatusOr<std::vector<netns::LinkStats>> links_ =
      std::vector<netns::LinkStats>{
          {"lo", 1, true, 10, 0, 10, 0},
          {"eth0", 2, false, 5000, 1, 7000, 2},
          {"net1", 3, false, 50, 0, 70, 0},
      };
  std::vector<std::string> asked_;
  PodStatsReader reader_;
};

TEST_F(FillPodTest, PodsNumbersAndInterfaces) {
  const absl::Time at = absl::FromUnixSeconds(2000);
  v1::PodSandboxStats out;
  reader_.FillPod(Pod("/run/pin/aaaa"), {}, at, &out);
  EXPECT_EQ(asked_, std::vector<std::string>{"/run/pin/aaaa"});
  EXPECT_EQ(out.attributes().id(), kPod);
  EXPECT_EQ(out.attributes().metadata().name(), "web");
  EXPECT_EQ(out.attributes().metadata().namespace_(), "ns");
  EXPECT_EQ(out.attributes().metadata().uid(), "uid-1");
  EXPECT_EQ(out.attributes().metadata().attempt(), 2u);
  EXPECT_EQ(out.attributes().labels().at("app"), "web");
  EXPECT_EQ(out.attributes().annotations().at("a"), "b");
  const v1::LinuxPodSandboxStats& l = out.linux();
  EXPECT_EQ(l.cpu().timestamp(), absl::ToUnixNanos(at));
  EXPECT_EQ(l.cpu().usage_core_nano_seconds().value(), 3000u);
  EXPECT_FALSE(l.cpu().has_usage_nano_cores());  // one sample only
  EXPECT_EQ(l.memory().working_set_bytes().value(), 6000u);
  EXPECT_EQ(l.memory().usage_bytes().value(), 8000u);
  EXPECT_EQ(l.memory().available_bytes().value(), 4000u);
  EXPECT_EQ(l.memory().rss_bytes().value(), 2000u);
  EXPECT_EQ(l.memory().page_faults().value(), 300u);
  EXPECT_EQ(l.memory().major_page_faults().value(), 3u);
  EXPECT_EQ(l.process().process_count().value(), 1u);
  EXPECT_EQ(l.network().timestamp(), absl::ToUnixNanos(at));
  EXPECT_EQ(l.network().default_interface().name(), "eth0");
  EXPECT_EQ(l.network().default_interface().rx_bytes().value(), 5000u);
  EXPECT_EQ(l.network().default_interface().rx_errors().value(), 1u);
  EXPECT_EQ(l.network().default_interface().tx_bytes().value(), 7000u);
  EXPECT_EQ(l.network().default_interface().tx_errors().value(), 2u);
  // The others but loopback, the default one not repeated.
  ASSERT_EQ(l.network().interfaces_size(), 1);
  EXPECT_EQ(l.network().interfaces(0).name(), "net1");
  EXPECT_EQ(l.network().interfaces(0).tx_bytes().value(), 70u);
  EXPECT_EQ(l.containers_size(), 0);

  // The second sample has a rate: 2 ms of CPU over 4 s.
  PutV2(tmp_.path(), kParent, 8000, 2000, "10000", 2003, 0);
  v1::PodSandboxStats again;
  reader_.FillPod(Pod("/run/pin/aaaa"), {}, at + absl::Seconds(4), &again);
  EXPECT_EQ(again.linux().cpu().usage_nano_cores().value(), 500'000u);
}

TEST_F(FillPodTest, NoNetworkForHostNetworkOrAnUnreadableNetns) {
  sandbox::SandboxStatus host = Pod("");
  host.config.namespaces.network = sandbox::NamespaceMode::kNode;
  v1::PodSandboxStats out;
  reader_.FillPod(host, {}, absl::Now(), &out);
  EXPECT_FALSE(out.linux().has_network());
  EXPECT_TRUE(asked_.empty());
  // The rest is still there.
  EXPECT_EQ(out.linux().memory().usage_bytes().value(), 8000u);

  links_ = absl::NotFoundError("open /run/pin/aaaa");
  v1::PodSandboxStats stopping;
  reader_.FillPod(Pod("/run/pin/aaaa"), {}, absl::Now(), &stopping);
  EXPECT_EQ(asked_.size(), 1u);
  EXPECT_FALSE(stopping.linux().has_network());
  EXPECT_TRUE(stopping.linux().has_cpu());
}

TEST_F(FillPodTest, ContainerRatesAreKeyedByContainer) {
  container::ContainerStats c;
  c.id = kCtr;
  c.cpu_usage_core_nanos = 1'000;
  c.timestamp = absl::FromUnixSeconds(10);
  EXPECT_EQ(reader_.ContainerNanoCores(c), std::nullopt);
  c.cpu_usage_core_nanos = 1'001'000;
  c.timestamp = absl::FromUnixSeconds(11);
  EXPECT_EQ(reader_.ContainerNanoCores(c), 1'000'000u);
}

}  // namespace
}  // namespace podsandbox::cri
