// The pod user-namespace checks, by name, and how to run them against a
// CRI endpoint. This is the header other projects link into their gtest
// suites:
//
//   harness::CriClient client("unix:///run/containerd/containerd.sock",
//                             absl::Minutes(2));
//   for (const harness::Check& check : harness::AllChecks()) {
//     harness::CheckResult r = harness::RunCheck(check, client, {});
//     EXPECT_EQ(r.verdict.outcome, harness::Outcome::kPass)
//         << r.name << ": " << r.verdict.detail;
//   }
//
// Every check starts its own uniquely named sandboxes and stops and
// removes them whatever happens; a failure of that cleanup turns the
// check's PASS into a FAIL (a runtime that cannot remove a pod is broken
// too). Checks run one after another; they need root (they read other
// processes' /proc files and namespaces).
#ifndef PODSANDBOX_HARNESS_CHECKS_H_
#define PODSANDBOX_HARNESS_CHECKS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "harness/check_env.h"
#include "harness/cri_client.h"
#include "harness/verdict.h"

namespace podsandbox::harness {

struct Check {
  const char* name;     // "maps_one_range"
  const char* summary;  // one line, for --list and the README
  Verdict (*run)(CheckEnv& env);
};

// Every check, in the order the CLI runs them.
const std::vector<Check>& AllChecks();

// The checks `filter` names: comma-separated names, each exact or a prefix
// ending in '*'. "" selects all. InvalidArgument naming an entry that
// matches nothing.
absl::StatusOr<std::vector<Check>> SelectChecks(absl::string_view filter);

// Runs one check and times it.
CheckResult RunCheck(const Check& check, CriClient& client,
                     const HarnessOptions& options);

// Runs `checks` in order.
std::vector<CheckResult> RunChecks(const std::vector<Check>& checks,
                                   CriClient& client,
                                   const HarnessOptions& options);

}  // namespace podsandbox::harness

#endif  // PODSANDBOX_HARNESS_CHECKS_H_
