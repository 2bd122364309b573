// Per-RPC accounting of the time an operation spends waiting for programs
// it executes (CNI plugins, OCI runtime binaries), so that the daemon can
// record, per RPC, how much of its time was its own. The RPC-wide
// histograms (rpc, plugin exec, runtime command) only give means of a
// difference; a p50 of "our own time" needs the split per call.
//
// An ExecLedger belongs to one RPC. ScopedExecLedger makes it the calling
// thread's current ledger; exec recording points (cni/plugin_exec.cc,
// oci/runtime_cli.cc) add to the current ledger, if any, beside their own
// histograms. Work a call hands to another thread (sandbox::Overlap) carries
// the ledger over, so a CNI ADD run beside the runtime's create still
// counts against its RPC. Cost: a thread-local read and an atomic add per
// exec, one histogram observation per part per RPC.
//
// Thread-safe: a ledger takes adds from several threads at once.
#ifndef PODSANDBOX_METRICS_EXEC_LEDGER_H_
#define PODSANDBOX_METRICS_EXEC_LEDGER_H_

#include <atomic>
#include <cstdint>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace podsandbox::metrics {

class ExecLedger {
 public:
  enum class Kind { kPlugin, kRuntime };

  void Add(Kind kind, absl::Duration took);
  absl::Duration plugin() const;
  absl::Duration runtime() const;

 private:
  std::atomic<int64_t> plugin_ns_{0};
  std::atomic<int64_t> runtime_ns_{0};
};

// The calling thread's current ledger; nullptr outside any scope.
ExecLedger* CurrentExecLedger();

// Makes `ledger` (may be nullptr: no accounting) the thread's current one
// for the scope's lifetime, then restores the previous. Not movable.
class ScopedExecLedger {
 public:
  explicit ScopedExecLedger(ExecLedger* ledger);
  ~ScopedExecLedger();
  ScopedExecLedger(const ScopedExecLedger&) = delete;
  ScopedExecLedger& operator=(const ScopedExecLedger&) = delete;

 private:
  ExecLedger* const previous_;
};

// Adds `took` to the thread's current ledger, if any.
void RecordExec(ExecLedger::Kind kind, absl::Duration took);

// Buckets of podsandbox_rpc_time_split_seconds: 0.5 ms wide up to 30 ms, so
// a p50 read from them is within 0.5 ms where the goals sit (5 ms), then
// LatencyBuckets-like steps to a minute.
const std::vector<double>& SplitBuckets();

// Observes podsandbox_rpc_time_split_seconds{method,part} for one RPC that
// took `total` from receipt to answer: part "plugin" (CNI plugin execs),
// "runtime" (OCI runtime binary execs) and "own" = total minus plugin time
// (the issue 13 definition of our own share; it includes runtime binaries,
// which "runtime" shows apart; 0 if execs that ran side by side add up to
// more than the total).
void ObserveRpcTimeSplit(absl::string_view method, absl::Duration total,
                         const ExecLedger& ledger);

}  // namespace podsandbox::metrics

#endif  // PODSANDBOX_METRICS_EXEC_LEDGER_H_
