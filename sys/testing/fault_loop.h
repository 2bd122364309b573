// The fault loop of faulty_sys.h, written once: count the calls a clean
// run makes through a FaultySys, then run once per call with that call
// failing, and prove each fault fired.
//
//   sys::CallCounts counts = sys::CountCalls(faulty, [&] { RunIt(); });
//   sys::ForEachFault(faulty, counts, EIO,
//       [&](const sys::Fault&) { result = RunIt(); },   // the fault armed
//       [&](const sys::Fault& f) { CheckNothingLeaked(result); });
//
// (a `prepare` overload runs set-up, unfaulted, before each fault is armed).
//
// ForEachFault checks that each fault fired exactly once (a run that makes
// fewer calls than the clean one would inject nothing, and pass), and that
// all of them together fired as many times as the clean run made calls.
// gtest failures carry the fault ("mount #3") as a SCOPED_TRACE.
#ifndef PODSANDBOX_SYS_TESTING_FAULT_LOOP_H_
#define PODSANDBOX_SYS_TESTING_FAULT_LOOP_H_

#include <array>
#include <string>

#include "absl/functional/function_ref.h"
#include "sys/testing/faulty_sys.h"

namespace podsandbox::sys {

// Calls of each SysCall, indexed by its value.
using CallCounts = std::array<int, kSysCallCount>;

struct Fault {
  SysCall call;
  int nth;   // 1-based, as FailNth
  int made;  // calls of `call` the faulted run made (the fault's included)
};

std::string FaultName(const Fault& fault);

// Resets `sys`, runs `run` and returns the calls it made; `sys` is reset
// again after.
CallCounts CountCalls(FaultySys& sys, absl::FunctionRef<void()> run);

// For every call c and every n in 1..counts[c]: resets `sys`, arms
// FailNth(c, n, err), calls `run`, reads what fired, resets `sys` (so
// `check`'s own clean-up runs unfaulted), expects the fault to have fired
// once, and calls `check`.
void ForEachFault(FaultySys& sys, const CallCounts& counts, int err,
                  absl::FunctionRef<void(const Fault&)> run,
                  absl::FunctionRef<void(const Fault&)> check);
// The same, calling `prepare` before each fault is armed (its calls are
// neither counted nor failed): a fresh object under test for each run.
void ForEachFault(FaultySys& sys, const CallCounts& counts, int err,
                  absl::FunctionRef<void(const Fault&)> prepare,
                  absl::FunctionRef<void(const Fault&)> run,
                  absl::FunctionRef<void(const Fault&)> check);

}  // namespace podsandbox::sys

#endif  // PODSANDBOX_SYS_TESTING_FAULT_LOOP_H_
