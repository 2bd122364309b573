#include "metrics/registry.h"

#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace podsandbox::metrics {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(RegistryTest, CounterAndGaugeExposition) {
  Registry registry;
  CounterFamily& calls =
      registry.Counter("test_calls_total", "Calls made.", {"verb", "code"});
  calls.Add({"create", "OK"});
  calls.Add({"create", "OK"}, 2);
  calls.Add({"kill", "NOT_FOUND"});
  GaugeFamily& pods = registry.Gauge("test_pods", "Pods held.", {});
  pods.Set({}, 3);
  pods.Add({}, -1);
  EXPECT_EQ(registry.WriteText(),
            "# HELP test_calls_total Calls made.\n"
            "# TYPE test_calls_total counter\n"
            "test_calls_total{verb=\"create\",code=\"OK\"} 3\n"
            "test_calls_total{verb=\"kill\",code=\"NOT_FOUND\"} 1\n"
            "# HELP test_pods Pods held.\n"
            "# TYPE test_pods gauge\n"
            "test_pods 2\n");
  EXPECT_EQ(calls.Value({"create", "OK"}), 3);
  EXPECT_EQ(calls.Value({"delete", "OK"}), 0);
}

TEST(RegistryTest, HistogramBucketsAreCumulativeWithInfSumAndCount) {
  Registry registry;
  HistogramFamily& latency =
      registry.Histogram("test_seconds", "Latency.", {"m"}, {0.1, 1});
  latency.Observe({"a"}, 0.05);
  latency.Observe({"a"}, 0.1);  // an upper bound is inclusive ("le")
  latency.Observe({"a"}, 0.5);
  latency.Observe({"a"}, 7);
  EXPECT_EQ(registry.WriteText(),
            "# HELP test_seconds Latency.\n"
            "# TYPE test_seconds histogram\n"
            "test_seconds_bucket{m=\"a\",le=\"0.1\"} 2\n"
            "test_seconds_bucket{m=\"a\",le=\"1\"} 3\n"
            "test_seconds_bucket{m=\"a\",le=\"+Inf\"} 4\n"
            "test_seconds_sum{m=\"a\"} 7.65\n"
            "test_seconds_count{m=\"a\"} 4\n");
  EXPECT_EQ(latency.Value({"a"}), 4);
  EXPECT_DOUBLE_EQ(latency.Sum({"a"}), 7.65);
}

TEST(RegistryTest, LabelValuesAndHelpAreEscaped) {
  Registry registry;
  registry.Counter("test_total", "a \\ b\nc", {"name"})
      .Add({"quote\" back\\ nl\n"});
  EXPECT_EQ(registry.WriteText(),
            "# HELP test_total a \\\\ b\\nc\n"
            "# TYPE test_total counter\n"
            "test_total{name=\"quote\\\" back\\\\ nl\\n\"} 1\n");
}

TEST(RegistryTest, SeriesPastTheBoundFoldIntoOneOverflowSeries) {
  Registry registry;
  CounterFamily& family = registry.Counter("test_total", "t", {"name"});
  for (size_t i = 0; i < kMaxSeriesPerFamily + 100; ++i) {
    family.Add({absl::StrCat("pod-", i)});
  }
  const std::string text = registry.WriteText();
  // kMaxSeriesPerFamily named series, then everything else in one.
  EXPECT_EQ(family.Value({kOverflowLabel}), 100);
  EXPECT_EQ(family.Value({absl::StrCat("pod-", kMaxSeriesPerFamily - 1)}), 1);
  EXPECT_EQ(family.Value({absl::StrCat("pod-", kMaxSeriesPerFamily)}), 0);
  EXPECT_TRUE(absl::StrContains(text, "test_total{name=\"_overflow_\"} 100\n"));
}

TEST(RegistryTest, SameNameReturnsTheSameFamily) {
  Registry registry;
  CounterFamily& a = registry.Counter("test_total", "t", {"x"});
  CounterFamily& b = registry.Counter("test_total", "t", {"x"});
  EXPECT_EQ(&a, &b);
}

TEST(RegistryTest, CollectorsRunAtScrapeUntilRemoved) {
  Registry registry;
  int runs = 0;
  const int id = registry.AddCollector([&runs](std::string* out) {
    ++runs;
    WriteGaugeFamily("test_state", "By state.", {"state"},
                     {{{"ready"}, 2}, {{"notready"}, 0}}, out);
  });
  EXPECT_EQ(registry.WriteText(),
            "# HELP test_state By state.\n"
            "# TYPE test_state gauge\n"
            "test_state{state=\"ready\"} 2\n"
            "test_state{state=\"notready\"} 0\n");
  registry.RemoveCollector(id);
  EXPECT_EQ(registry.WriteText(), "");
  EXPECT_EQ(runs, 1);
}

TEST(RegistryTest, ConcurrentRecordingLosesNothing) {
  Registry registry;
  HistogramFamily& h =
      registry.Histogram("test_seconds", "t", {"t"}, LatencyBuckets());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&h] {
      for (int i = 0; i < 10000; ++i) h.Observe({"x"}, 0.002);
    });
  }
  // A scrape while they record must see a consistent (if partial) state.
  EXPECT_THAT(registry.WriteText(), Not(HasSubstr("nan")));
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(h.Value({"x"}), 40000);
  EXPECT_THAT(registry.WriteText(),
              HasSubstr("test_seconds_bucket{t=\"x\",le=\"0.0025\"} 40000\n"));
}

TEST(RegistryTest, DefaultRegistryIsOneObject) {
  EXPECT_EQ(&DefaultRegistry(), &DefaultRegistry());
}

}  // namespace
}  // namespace podsandbox::metrics
