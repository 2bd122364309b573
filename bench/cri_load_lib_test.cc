#include "bench/cri_load_lib.h"

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace podsandbox::bench {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::vector<absl::Duration> Ms(std::vector<int> values) {
  std::vector<absl::Duration> out;
  for (int v : values) out.push_back(absl::Milliseconds(v));
  return out;
}

TEST(PercentileTest, NearestRankOverUnsortedInput) {
  // 1..100 shuffled: the q-th percentile is q ms exactly.
  std::vector<int> values;
  for (int i = 100; i >= 1; --i) values.push_back(i);
  EXPECT_EQ(Percentile(Ms(values), 50), absl::Milliseconds(50));
  EXPECT_EQ(Percentile(Ms(values), 95), absl::Milliseconds(95));
  EXPECT_EQ(Percentile(Ms(values), 99), absl::Milliseconds(99));
  EXPECT_EQ(Percentile(Ms(values), 100), absl::Milliseconds(100));
  EXPECT_EQ(Percentile(Ms(values), 0), absl::Milliseconds(1));
}

TEST(PercentileTest, SmallSamplesRoundUp) {
  // n = 3: p50 is rank ceil(1.5) = 2; p95 and p99 are the maximum.
  EXPECT_EQ(Percentile(Ms({30, 10, 20}), 50), absl::Milliseconds(20));
  EXPECT_EQ(Percentile(Ms({30, 10, 20}), 95), absl::Milliseconds(30));
  EXPECT_EQ(Percentile(Ms({7}), 99), absl::Milliseconds(7));
}

TEST(PercentileTest, EmptyAndOutOfRange) {
  EXPECT_EQ(Percentile({}, 50), absl::ZeroDuration());
  EXPECT_EQ(Percentile(Ms({1, 2}), 150), absl::Milliseconds(2));
  EXPECT_EQ(Percentile(Ms({1, 2}), -5), absl::Milliseconds(1));
}

TEST(SummarizeTest, CountsAndMean) {
  LatencySummary s = Summarize(Ms({10, 20, 30, 40}));
  EXPECT_EQ(s.count, 4);
  EXPECT_EQ(s.p50, absl::Milliseconds(20));
  EXPECT_EQ(s.max, absl::Milliseconds(40));
  EXPECT_EQ(s.mean, absl::Milliseconds(25));
  EXPECT_EQ(Summarize({}).count, 0);
}

TEST(ParsePssKibTest, TakesTheTotalNotTheBreakdown) {
  constexpr char kRollup[] =
      "00400000-7ffd0000 ---p 00000000 00:00 0    [rollup]\n"
      "Rss:                 884 kB\n"
      "Pss:                 137 kB\n"
      "Pss_Dirty:            60 kB\n"
      "Pss_Anon:             60 kB\n"
      "Shared_Clean:        800 kB\n";
  absl::StatusOr<int64_t> pss = ParsePssKib(kRollup);
  ASSERT_TRUE(pss.ok()) << pss.status();
  EXPECT_EQ(*pss, 137);
}

TEST(ParsePssKibTest, RejectsMissingOrMalformed) {
  EXPECT_EQ(ParsePssKib("").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParsePssKib("Pss_Anon: 5 kB\n").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParsePssKib("Pss: lots kB\n").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParsePssKib("Pss: 12\n").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ParsePpidTest, CommandWithSpacesAndParens) {
  absl::StatusOr<pid_t> ppid =
      ParsePpid("4242 (containerd-shim (x) y) S 1 4242 4242 0 -1 4194560");
  ASSERT_TRUE(ppid.ok()) << ppid.status();
  EXPECT_EQ(*ppid, 1);
  EXPECT_EQ(*ParsePpid("77 (pause) S 76 77 77 0"), 76);
}

TEST(ParsePpidTest, Malformed) {
  EXPECT_FALSE(ParsePpid("77 pause S 76").ok());
  EXPECT_FALSE(ParsePpid("77 (pause) S").ok());
  EXPECT_FALSE(ParsePpid("77 (pause) S x").ok());
}

TEST(PidFromStatusInfoTest, FindsPidInAnyJsonValue) {
  std::map<std::string, std::string> info = {
      {"config", "not json"},
      {"info", R"({"pid": 4321, "processStatus": "running"})"}};
  absl::StatusOr<pid_t> pid = PidFromStatusInfo(info);
  ASSERT_TRUE(pid.ok()) << pid.status();
  EXPECT_EQ(*pid, 4321);
}

TEST(PidFromStatusInfoTest, NotFoundWithoutPositivePid) {
  EXPECT_EQ(PidFromStatusInfo({}).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(PidFromStatusInfo({{"info", R"({"pid": 0})"}}).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(PidFromStatusInfo({{"info", R"({"pid": "12"})"}}).status().code(),
            absl::StatusCode::kNotFound);
}

TEST(NoPauseInStatusInfoTest, TrueOnlyForInfraNone) {
  EXPECT_TRUE(NoPauseInStatusInfo(
      {{"config", "not json"}, {"info", R"({"infra": "none"})"}}));
  EXPECT_FALSE(NoPauseInStatusInfo({}));
  EXPECT_FALSE(NoPauseInStatusInfo({{"info", R"({"pid": 12})"}}));
  EXPECT_FALSE(NoPauseInStatusInfo({{"info", R"({"infra": "pause"})"}}));
}

RunReport SampleReport() {
  RunReport r;
  r.label = "podsandboxd";
  r.endpoint = "unix:///tmp/x.sock";
  r.runtime_handler = "runc";
  r.userns = true;
  r.pods = 4;
  r.concurrency = 2;
  r.run_samples = Ms({10, 20, 30, 40});
  r.run = Summarize(r.run_samples);
  r.stop = Summarize(Ms({5, 5, 5, 5}));
  r.remove = Summarize(Ms({1, 1, 1, 1}));
  r.run_wall = absl::Seconds(2);
  return r;
}

TEST(RunReportTest, PodsPerSecondOverTheRunPhase) {
  RunReport r = SampleReport();
  EXPECT_DOUBLE_EQ(r.PodsPerSecond(), 2.0);
  r.run_wall = absl::ZeroDuration();
  EXPECT_DOUBLE_EQ(r.PodsPerSecond(), 0.0);
}

TEST(MemoryReportTest, PerPodIncludesDaemonGrowth) {
  MemoryReport m;
  m.pods = 4;
  m.processes = 4;
  m.pod_processes_pss_kib = 400;
  m.daemon_before_kib = 1000;
  m.daemon_after_kib = 1200;
  EXPECT_EQ(m.DaemonGrowthKib(), 200);
  EXPECT_DOUBLE_EQ(m.PerPodKib(), 150.0);
  EXPECT_DOUBLE_EQ(MemoryReport{}.PerPodKib(), 0.0);
}

constexpr char kMeminfo[] =
    "MemTotal:       24683660 kB\n"
    "Shmem:              8856 kB\n"
    "Slab:             408148 kB\n"
    "SReclaimable:     356572 kB\n"
    "SUnreclaim:        51576 kB\n"
    "KernelStack:        2320 kB\n"
    "PageTables:         4600 kB\n"
    "SecPageTables:         0 kB\n"
    "Percpu:             2456 kB\n";

TEST(ParseKernelMemoryTest, Fields) {
  absl::StatusOr<KernelMemory> m = ParseKernelMemory(kMeminfo);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->slab_reclaimable, 356572);
  EXPECT_EQ(m->slab_unreclaimable, 51576);
  EXPECT_EQ(m->percpu, 2456);
  EXPECT_EQ(m->kernel_stack, 2320);
  EXPECT_EQ(m->page_tables, 4600);  // not SecPageTables
  EXPECT_EQ(m->shmem, 8856);
  EXPECT_EQ(m->TotalKib(), 356572 + 51576 + 2456 + 2320 + 4600 + 8856);
}

TEST(ParseKernelMemoryTest, PercpuOptionalOthersRequired) {
  absl::StatusOr<KernelMemory> m = ParseKernelMemory(
      "Shmem: 1 kB\nSReclaimable: 2 kB\nSUnreclaim: 3 kB\n"
      "KernelStack: 4 kB\nPageTables: 5 kB\n");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->percpu, 0);
  EXPECT_EQ(m->TotalKib(), 15);
  absl::StatusOr<KernelMemory> missing = ParseKernelMemory(
      "Shmem: 1 kB\nSReclaimable: 2 kB\nKernelStack: 4 kB\n"
      "PageTables: 5 kB\n");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(missing.status().message(), HasSubstr("SUnreclaim"));
  EXPECT_FALSE(ParseKernelMemory("Shmem: x kB\nSReclaimable: 2 kB\n"
                                 "SUnreclaim: 3 kB\nKernelStack: 4 kB\n"
                                 "PageTables: 5 kB\n")
                   .ok());
}

TEST(MedianKernelMemoryTest, EachFieldOnItsOwn) {
  KernelMemory a, b, c;
  a.slab_reclaimable = 10;
  b.slab_reclaimable = 30;
  c.slab_reclaimable = 20;
  a.shmem = 5;
  b.shmem = 1;
  c.shmem = 9;
  KernelMemory m = MedianKernelMemory({a, b, c});
  EXPECT_EQ(m.slab_reclaimable, 20);
  EXPECT_EQ(m.shmem, 5);
  // Even count: the lower middle, as Percentile(50).
  EXPECT_EQ(MedianKernelMemory({a, b}).slab_reclaimable, 10);
  EXPECT_EQ(MedianKernelMemory({}).TotalKib(), 0);
}

TEST(KernelMemoryFigureTest, SettledLastReadings) {
  auto reading = [](int64_t kib) {
    KernelMemory m;
    m.slab_unreclaimable = kib;
    return m;
  };
  // The kernel still freeing a removed pod's objects: a steady fall.
  std::vector<KernelMemory> r = {reading(2000), reading(1800), reading(1600),
                                 reading(1400), reading(1200)};
  EXPECT_FALSE(KernelMemorySettled(r));
  EXPECT_EQ(KernelMemoryFigure(r).TotalKib(), 1600);
  for (int64_t kib : {1100, 1050, 1000, 1000}) r.push_back(reading(kib));
  EXPECT_FALSE(KernelMemorySettled(r));  // 1200..1000: 200 apart
  r.push_back(reading(1000 + kKernelSettledSpanKib));
  EXPECT_TRUE(KernelMemorySettled(r));  // 1050..1128
  EXPECT_EQ(KernelMemoryFigure(r).TotalKib(), 1050);
  // Fewer than kKernelMedianOf: never settled; the figure is all of them.
  r.resize(3);
  EXPECT_FALSE(KernelMemorySettled(r));
  EXPECT_EQ(KernelMemoryFigure(r).TotalKib(), 1800);
}

TEST(ParseMemoryCgroupsTest, MemoryRow) {
  absl::StatusOr<int64_t> n = ParseMemoryCgroups(
      "#subsys_name\thierarchy\tnum_cgroups\tenabled\n"
      "cpuset\t3\t8\t1\nmemory\t4\t145\t1\npids\t8\t8\t1\n");
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 145);
  EXPECT_FALSE(ParseMemoryCgroups("cpuset\t3\t8\t1\n").ok());
  EXPECT_FALSE(ParseMemoryCgroups("memory\t4\tx\t1\n").ok());
}

TEST(MemoryReportTest, KernelPerPod) {
  MemoryReport m{4, 4, 400, 1000, 1200};
  EXPECT_DOUBLE_EQ(m.KernelPerPodKib(), 0.0);  // not read
  KernelMemoryReport k;
  KernelMemory before, after, noisy;
  before.slab_unreclaimable = 1000;
  after.slab_unreclaimable = 1600;
  after.kernel_stack = 200;
  noisy.slab_unreclaimable = 9000;  // one reading's burst: not the median
  k.before_samples = {before, before, noisy};
  k.after_samples = {after, noisy, after};
  m.kernel = k;
  EXPECT_EQ(m.kernel->DeltaKib(), 800);
  EXPECT_DOUBLE_EQ(m.KernelPerPodKib(), 200.0);
}

TEST(FormatTableTest, RowsAndOptionalSections) {
  RunReport r = SampleReport();
  std::string table = FormatTable(r);
  EXPECT_THAT(table, HasSubstr("podsandboxd (unix:///tmp/x.sock"));
  EXPECT_THAT(table, HasSubstr("concurrency 2, userns yes"));
  EXPECT_THAT(table,
              HasSubstr("  RunPodSandbox          4      20.0      40.0"));
  EXPECT_THAT(table, HasSubstr("2.00 pods/s"));
  EXPECT_THAT(table, Not(HasSubstr("memory")));
  EXPECT_THAT(table, Not(HasSubstr("errors")));

  r.memory = MemoryReport{4, 4, 400, 1000, 1200};
  r.errors = 1;
  r.first_error = "UNAVAILABLE: gone";
  table = FormatTable(r);
  EXPECT_THAT(table, HasSubstr("memory: 150 KiB/pod"));
  EXPECT_THAT(table, Not(HasSubstr("kernel memory")));
  EXPECT_THAT(table, HasSubstr("errors: 1 (first: UNAVAILABLE: gone)"));
}

TEST(ToJsonTest, FieldsInMilliseconds) {
  RunReport r = SampleReport();
  nlohmann::json j = ToJson(r);
  EXPECT_EQ(j["label"], "podsandboxd");
  EXPECT_EQ(j["userns"], true);
  EXPECT_EQ(j["run_ms"]["count"], 4);
  EXPECT_DOUBLE_EQ(j["run_ms"]["p50"].get<double>(), 20.0);
  EXPECT_DOUBLE_EQ(j["stop_ms"]["p99"].get<double>(), 5.0);
  EXPECT_DOUBLE_EQ(j["pods_per_s"].get<double>(), 2.0);
  EXPECT_EQ(j["samples_ms"]["run"].size(), 4u);
  EXPECT_FALSE(j.contains("memory"));

  r.memory = MemoryReport{4, 4, 400, 1000, 1200};
  j = ToJson(r);
  EXPECT_EQ(j["memory"]["daemon_growth_kib"], 200);
  EXPECT_DOUBLE_EQ(j["memory"]["per_pod_kib"].get<double>(), 150.0);
  EXPECT_FALSE(j["memory"].contains("kernel"));
  EXPECT_FALSE(j.contains("run_cpu"));

  KernelMemory before, after;
  before.shmem = 100;
  after.shmem = 500;
  r.memory->kernel = KernelMemoryReport{{before}, {after}, true, false, 10, 14};
  j = ToJson(r);
  EXPECT_EQ(j["memory"]["kernel"]["delta_kib"], 400);
  EXPECT_DOUBLE_EQ(j["memory"]["kernel"]["per_pod_kib"].get<double>(), 100.0);
  EXPECT_EQ(j["memory"]["kernel"]["after"]["shmem_kib"], 500);
  EXPECT_EQ(j["memory"]["kernel"]["after_samples"].size(), 1u);
  EXPECT_EQ(j["memory"]["kernel"]["cgroups_after"], 14);
  EXPECT_EQ(j["memory"]["kernel"]["after_settled"], false);

  r.run_cpu = CpuReport{2, 1.5, 2.0, 0.25, 0.75};
  j = ToJson(r);
  EXPECT_EQ(j["run_cpu"]["cpus"], 2);
  EXPECT_DOUBLE_EQ(j["run_cpu"]["host_busy_s"].get<double>(), 1.5);
  EXPECT_DOUBLE_EQ(j["run_cpu"]["daemon_children_s"].get<double>(), 0.75);
}

TEST(ParseHostCpuTicksTest, BusyAndTotal) {
  // user nice system idle iowait irq softirq steal guest guest_nice
  absl::StatusOr<HostCpuTicks> t = ParseHostCpuTicks(
      "cpu  100 2 30 500 7 1 4 3 50 0\ncpu0 50 1 15 250 3 0 2 1 25 0\n");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->busy, 100 + 2 + 30 + 1 + 4 + 3);  // guest is inside user
  EXPECT_EQ(t->total, t->busy + 500 + 7);
}

TEST(ParseHostCpuTicksTest, Malformed) {
  EXPECT_FALSE(ParseHostCpuTicks("cpu0 1 2 3 4 5 6 7 8\n").ok());
  EXPECT_FALSE(ParseHostCpuTicks("cpu  1 2 3 4 5 6 7\n").ok());
  EXPECT_FALSE(ParseHostCpuTicks("cpu  1 2 3 x 5 6 7 8\n").ok());
}

TEST(ParseProcessCpuTicksTest, SelfAndChildren) {
  // Fields 14-17 (utime stime cutime cstime) are 11, 12, 130, 140; the
  // command holds spaces and a ')'.
  absl::StatusOr<ProcessCpuTicks> t = ParseProcessCpuTicks(
      "4242 (pod sandbox) d) S 1 4242 4242 0 -1 4194560 500 900 0 0 11 12 "
      "130 140 20 0 9 0 1234");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->self, 23);
  EXPECT_EQ(t->children, 270);
  EXPECT_FALSE(ParseProcessCpuTicks("4242 (x) S 1 2 3").ok());
  EXPECT_FALSE(ParseProcessCpuTicks("4242 x S 1 2 3").ok());
}

}  // namespace
}  // namespace podsandbox::bench
