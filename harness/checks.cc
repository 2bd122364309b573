#include "harness/checks.h"

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "harness/namespace_checks.h"
#include "harness/userns_checks.h"

namespace podsandbox::harness {

const std::vector<Check>& AllChecks() {
  static const auto* const checks = new std::vector<Check>{
      {"maps_one_range",
       "uid_map and gid_map of the pause equal a one-range request",
       CheckMapsOneRange},
      {"maps_several_ranges",
       "the same with two ranges per map (SKIP if the runtime refuses them)",
       CheckMapsSeveralRanges},
      {"netns_owned_by_pod_userns",
       "NS_GET_USERNS(/proc/<pid>/ns/net) is /proc/<pid>/ns/user, not the "
       "host's",
       CheckNetnsOwnedByPodUserns},
      {"sysfs_mounted",
       "/sys in the pod is a sysfs of the pod's netns, not missing or the "
       "host's",
       CheckSysfsMounted},
      {"disjoint_pods_apart",
       "two pods with disjoint maps are in two user namespaces",
       CheckDisjointPodsApart},
      {"host_root_not_mapped",
       "host uid and gid 0 are not in the pod's maps unless requested",
       CheckHostRootNotMapped},
      {"refuses_mode_container", "userns mode CONTAINER is refused",
       CheckRefusesModeContainer},
      {"refuses_overlapping_ranges", "overlapping container ranges are refused",
       CheckRefusesOverlappingRanges},
      {"refuses_zero_length", "a range of length 0 is refused",
       CheckRefusesZeroLength},
      {"refuses_uids_without_gids",
       "uid mappings without gid mappings are "
       "refused",
       CheckRefusesUidsWithoutGids},
      {"host_network_userns",
       "userns + host network (if accepted): maps held, /sys a read-only bind",
       CheckHostNetworkUserns},
      {"teardown_leaves_nothing",
       "after Stop and Remove: no pause process, no pinned namespace",
       CheckTeardownLeavesNothing},
  };
  return *checks;
}

absl::StatusOr<std::vector<Check>> SelectChecks(absl::string_view filter) {
  if (absl::StripAsciiWhitespace(filter).empty()) return AllChecks();
  std::vector<absl::string_view> entries =
      absl::StrSplit(filter, ',', absl::SkipWhitespace());
  std::vector<bool> used(entries.size(), false);
  std::vector<Check> selected;
  // In AllChecks' order, whatever the filter's order, each check once.
  for (const Check& check : AllChecks()) {
    bool match = false;
    for (size_t i = 0; i < entries.size(); ++i) {
      absl::string_view entry = absl::StripAsciiWhitespace(entries[i]);
      const bool hit =
          absl::EndsWith(entry, "*")
              ? absl::StartsWith(check.name, absl::StripSuffix(entry, "*"))
              : entry == check.name;
      if (hit) used[i] = match = true;
    }
    if (match) selected.push_back(check);
  }
  for (size_t i = 0; i < entries.size(); ++i) {
    if (!used[i]) {
      return absl::InvalidArgumentError(
          absl::StrCat("--checks: \"", absl::StripAsciiWhitespace(entries[i]),
                       "\" matches no check"));
    }
  }
  return selected;
}

CheckResult RunCheck(const Check& check, CriClient& client,
                     const HarnessOptions& options) {
  const absl::Time start = absl::Now();
  CheckResult result{check.name, {}, {}};
  {
    CheckEnv env(client, options, check.name);
    result.verdict = check.run(env);
    // A pod without a pause was read through a probe in its pins: the
    // verdict says so, whatever it is.
    if (!env.notes().empty()) {
      absl::StrAppend(&result.verdict.detail, "; ",
                      absl::StrJoin(env.notes(), "; "));
    }
    // The check's absl::Cleanups have run by now: their errors are known.
    if (!env.cleanup_errors().empty()) {
      const std::string errors = absl::StrJoin(env.cleanup_errors(), "; ");
      if (result.verdict.outcome == Outcome::kPass) {
        result.verdict = Verdict::Fail(
            absl::StrCat("cleanup failed: ", errors,
                         " (after: ", result.verdict.detail, ")"));
      } else {
        absl::StrAppend(&result.verdict.detail, "; cleanup failed: ", errors);
      }
    }
  }
  result.duration = absl::Now() - start;
  return result;
}

std::vector<CheckResult> RunChecks(const std::vector<Check>& checks,
                                   CriClient& client,
                                   const HarnessOptions& options) {
  std::vector<CheckResult> results;
  for (const Check& check : checks) {
    results.push_back(RunCheck(check, client, options));
  }
  return results;
}

}  // namespace podsandbox::harness
