// What one harness check concluded, and how the CLI and tests print it.
//
// A verdict is PASS, FAIL with the value the harness observed (the kernel's
// view, not the runtime's claim), or SKIP with the reason the check could
// not run (the runtime did not report the pause pid, say). SKIP is never a
// silent PASS: the CLI prints it and callers decide what it means to them.
#ifndef PODSANDBOX_HARNESS_VERDICT_H_
#define PODSANDBOX_HARNESS_VERDICT_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace podsandbox::harness {

enum class Outcome { kPass, kFail, kSkip };

// "PASS", "FAIL" or "SKIP".
absl::string_view OutcomeName(Outcome outcome);

struct Verdict {
  Outcome outcome = Outcome::kSkip;
  // PASS: what was seen; FAIL: the observed value against the expected
  // one; SKIP: why the check could not decide.
  std::string detail;

  static Verdict Pass(std::string detail) {
    return {Outcome::kPass, std::move(detail)};
  }
  static Verdict Fail(std::string detail) {
    return {Outcome::kFail, std::move(detail)};
  }
  static Verdict Skip(std::string detail) {
    return {Outcome::kSkip, std::move(detail)};
  }
};

struct CheckResult {
  std::string name;
  Verdict verdict;
  absl::Duration duration;
};

// "PASS  name  detail", one line, names padded to `name_width`.
std::string FormatLine(const CheckResult& result, size_t name_width);

// {"results":[{"name","outcome","detail","durationMs"}...],
//  "pass":n,"fail":n,"skip":n} on one line.
std::string FormatJson(const std::vector<CheckResult>& results);

// True when no result is a FAIL (SKIPs do not count).
bool NoFailures(const std::vector<CheckResult>& results);

}  // namespace podsandbox::harness

#endif  // PODSANDBOX_HARNESS_VERDICT_H_
