#include "metrics/exec_ledger.h"

#include <string>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "metrics/registry.h"

namespace podsandbox::metrics {
namespace {

TEST(ExecLedgerTest, RecordsOnlyIntoTheCurrentLedger) {
  RecordExec(ExecLedger::Kind::kPlugin, absl::Milliseconds(1));  // no scope
  ExecLedger outer;
  {
    ScopedExecLedger scope(&outer);
    EXPECT_EQ(CurrentExecLedger(), &outer);
    RecordExec(ExecLedger::Kind::kPlugin, absl::Milliseconds(3));
    ExecLedger inner;
    {
      ScopedExecLedger nested(&inner);
      RecordExec(ExecLedger::Kind::kRuntime, absl::Milliseconds(5));
    }
    EXPECT_EQ(CurrentExecLedger(), &outer);
    EXPECT_EQ(inner.runtime(), absl::Milliseconds(5));
    EXPECT_EQ(inner.plugin(), absl::ZeroDuration());
  }
  EXPECT_EQ(CurrentExecLedger(), nullptr);
  EXPECT_EQ(outer.plugin(), absl::Milliseconds(3));
  EXPECT_EQ(outer.runtime(), absl::ZeroDuration());
}

TEST(ExecLedgerTest, TakesAddsFromAnotherThreadScopedToIt) {
  ExecLedger ledger;
  std::thread other([&ledger] {
    ScopedExecLedger scope(&ledger);
    RecordExec(ExecLedger::Kind::kPlugin, absl::Milliseconds(7));
  });
  other.join();
  EXPECT_EQ(ledger.plugin(), absl::Milliseconds(7));
}

// The bucket line of `method`/`part` whose upper bound is `le`.
std::string BucketLine(absl::string_view method, absl::string_view part,
                       absl::string_view le) {
  return absl::StrCat("podsandbox_rpc_time_split_seconds_bucket{method=\"",
                      method, "\",part=\"", part, "\",le=\"", le, "\"} ");
}

TEST(ExecLedgerTest, ObservesOwnAsTotalMinusPlugin) {
  ExecLedger ledger;
  ledger.Add(ExecLedger::Kind::kPlugin, absl::Milliseconds(10));
  ledger.Add(ExecLedger::Kind::kRuntime, absl::Milliseconds(4));
  ObserveRpcTimeSplit("TestSplit", absl::Milliseconds(12.2), ledger);
  const std::string text = DefaultRegistry().WriteText();
  // own = 2.2 ms: not in the 2 ms bucket, in the 2.5 ms one.
  EXPECT_TRUE(
      absl::StrContains(text, BucketLine("TestSplit", "own", "0.002") + "0\n"))
      << text;
  EXPECT_TRUE(absl::StrContains(
      text, BucketLine("TestSplit", "own", "0.0025") + "1\n"));
  EXPECT_TRUE(absl::StrContains(
      text, BucketLine("TestSplit", "runtime", "0.004") + "1\n"));
  EXPECT_TRUE(absl::StrContains(
      text, BucketLine("TestSplit", "plugin", "0.0095") + "0\n"));
}

TEST(ExecLedgerTest, OwnIsNeverNegative) {
  ExecLedger ledger;  // plugins side by side outlasting the RPC's wall time
  ledger.Add(ExecLedger::Kind::kPlugin, absl::Milliseconds(30));
  ObserveRpcTimeSplit("TestOverlap", absl::Milliseconds(20), ledger);
  EXPECT_TRUE(
      absl::StrContains(DefaultRegistry().WriteText(),
                        BucketLine("TestOverlap", "own", "0.0005") + "1\n"));
}

TEST(ExecLedgerTest, BucketsAscend) {
  const std::vector<double>& b = SplitBuckets();
  for (size_t i = 1; i < b.size(); ++i) EXPECT_LT(b[i - 1], b[i]);
  EXPECT_DOUBLE_EQ(b.front(), 0.0005);
}

}  // namespace
}  // namespace podsandbox::metrics
