#include "sys/testing/fault_loop.h"

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace podsandbox::sys {

std::string FaultName(const Fault& fault) {
  return absl::StrCat(SysCallName(fault.call), " #", fault.nth);
}

CallCounts CountCalls(FaultySys& sys, absl::FunctionRef<void()> run) {
  sys.Reset();
  run();
  CallCounts counts;
  for (int c = 0; c < kSysCallCount; ++c) {
    counts[c] = sys.count(static_cast<SysCall>(c));
  }
  sys.Reset();
  return counts;
}

void ForEachFault(FaultySys& sys, const CallCounts& counts, int err,
                  absl::FunctionRef<void(const Fault&)> run,
                  absl::FunctionRef<void(const Fault&)> check) {
  ForEachFault(
      sys, counts, err, [](const Fault&) {}, run, check);
}

void ForEachFault(FaultySys& sys, const CallCounts& counts, int err,
                  absl::FunctionRef<void(const Fault&)> prepare,
                  absl::FunctionRef<void(const Fault&)> run,
                  absl::FunctionRef<void(const Fault&)> check) {
  int total = 0;
  int fired = 0;
  for (int c = 0; c < kSysCallCount; ++c) {
    const SysCall call = static_cast<SysCall>(c);
    for (int nth = 1; nth <= counts[c]; ++nth) {
      Fault fault{call, nth, 0};
      SCOPED_TRACE(FaultName(fault));
      prepare(fault);
      sys.Reset();
      sys.FailNth(call, nth, err);
      run(fault);
      const int fired_here = sys.fired(call);
      fault.made = sys.count(call);
      sys.Reset();
      EXPECT_EQ(fired_here, 1) << "the fault fired nowhere";
      ++total;
      fired += fired_here;
      check(fault);
    }
  }
  EXPECT_EQ(fired, total);
}

}  // namespace podsandbox::sys
