#include "metrics/exec_ledger.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "metrics/registry.h"

namespace podsandbox::metrics {

namespace {

thread_local ExecLedger* current_ledger = nullptr;

}  // namespace

void ExecLedger::Add(Kind kind, absl::Duration took) {
  const int64_t ns = absl::ToInt64Nanoseconds(took);
  (kind == Kind::kPlugin ? plugin_ns_ : runtime_ns_)
      .fetch_add(ns, std::memory_order_relaxed);
}

absl::Duration ExecLedger::plugin() const {
  return absl::Nanoseconds(plugin_ns_.load(std::memory_order_relaxed));
}

absl::Duration ExecLedger::runtime() const {
  return absl::Nanoseconds(runtime_ns_.load(std::memory_order_relaxed));
}

ExecLedger* CurrentExecLedger() { return current_ledger; }

ScopedExecLedger::ScopedExecLedger(ExecLedger* ledger)
    : previous_(current_ledger) {
  current_ledger = ledger;
}

ScopedExecLedger::~ScopedExecLedger() { current_ledger = previous_; }

void RecordExec(ExecLedger::Kind kind, absl::Duration took) {
  if (current_ledger != nullptr) current_ledger->Add(kind, took);
}

const std::vector<double>& SplitBuckets() {
  static const std::vector<double>* const kBuckets = [] {
    auto* b = new std::vector<double>;
    // i / 2000.0, not i * 0.0005: the nearest double to each bound, so
    // they print as written (le="0.0095").
    for (int i = 1; i <= 60; ++i) b->push_back(i / 2000.0);
    for (double v : {0.04, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 1.0, 2.5, 5.0,
                     10.0, 30.0, 60.0}) {
      b->push_back(v);
    }
    return b;
  }();
  return *kBuckets;
}

void ObserveRpcTimeSplit(absl::string_view method, absl::Duration total,
                         const ExecLedger& ledger) {
  static HistogramFamily& split_seconds = DefaultRegistry().Histogram(
      "podsandbox_rpc_time_split_seconds",
      "Per CRI RPC (RunPodSandbox, StopPodSandbox, RemovePodSandbox): time "
      "in CNI plugin execs (part=plugin), in OCI runtime binary execs "
      "(part=runtime), and the RPC's time minus its plugin time (part=own).",
      {"method", "part"}, SplitBuckets());
  const std::string m(method);
  const absl::Duration plugin = ledger.plugin();
  split_seconds.Observe({m, "plugin"}, absl::ToDoubleSeconds(plugin));
  split_seconds.Observe({m, "runtime"},
                        absl::ToDoubleSeconds(ledger.runtime()));
  split_seconds.Observe({m, "own"}, absl::ToDoubleSeconds(std::max(
                                        absl::ZeroDuration(), total - plugin)));
}

}  // namespace podsandbox::metrics
