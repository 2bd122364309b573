// One call run beside the caller's own work: CNI ADD while the runtime
// creates the pause (RunPodSandbox), the pause's kill while CNI DEL runs
// (Stop). The pipeline stays a flat list of steps; the thread lives here.
//
// When overlapped, the call runs on a thread of its own from construction
// on; otherwise it runs in place, in the constructor, so the caller's text
// order is the run order. Either way its outcome is handed to `settle`
// exactly once, on the caller's thread: when the caller asks for it
// (Join), or at the latest when the Overlap is destroyed. So no path out of
// the caller leaves the thread running, or leaves an outcome untaken (an
// ADD that attached the pod has its undo pushed before the caller unwinds).
//
// `call` must not touch the caller's locals: it runs concurrently with
// them. Not thread-safe: one caller owns an Overlap.
#ifndef PODSANDBOX_SANDBOX_OVERLAP_H_
#define PODSANDBOX_SANDBOX_OVERLAP_H_

#include <optional>
#include <thread>
#include <utility>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "metrics/exec_ledger.h"

namespace podsandbox::sandbox {

template <typename T>
class Overlap {
 public:
  // Starts `call`: on a new thread when `concurrent`, else now, in place.
  Overlap(bool concurrent, absl::AnyInvocable<T()> call,
          absl::AnyInvocable<absl::Status(T)> settle)
      : settle_(std::move(settle)) {
    if (concurrent) {
      // The call works for the caller's RPC: its execs count against it.
      thread_ = std::thread([this, call = std::move(call),
                             ledger = metrics::CurrentExecLedger()]() mutable {
        metrics::ScopedExecLedger scope(ledger);
        outcome_.emplace(call());
      });
    } else {
      outcome_.emplace(call());
    }
  }

  Overlap(const Overlap&) = delete;
  Overlap& operator=(const Overlap&) = delete;

  // An outcome nobody asked for is settled anyway; settle's error is moot
  // then (the caller is already returning an error of its own).
  ~Overlap() { Join().IgnoreError(); }

  // Waits for the call, then returns settle(outcome). Later calls return
  // that same status without settling again.
  absl::Status Join() {
    if (settled_.has_value()) return *settled_;
    if (thread_.joinable()) thread_.join();
    settled_.emplace(settle_(*std::move(outcome_)));
    return *settled_;
  }

 private:
  absl::AnyInvocable<absl::Status(T)> settle_;
  std::optional<T> outcome_;  // written by the call, read after the join
  std::optional<absl::Status> settled_;
  std::thread thread_;
};

}  // namespace podsandbox::sandbox

#endif  // PODSANDBOX_SANDBOX_OVERLAP_H_
