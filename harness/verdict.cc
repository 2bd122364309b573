#include "harness/verdict.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "nlohmann/json.hpp"

namespace podsandbox::harness {

absl::string_view OutcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kPass:
      return "PASS";
    case Outcome::kFail:
      return "FAIL";
    case Outcome::kSkip:
      return "SKIP";
  }
  return "SKIP";
}

std::string FormatLine(const CheckResult& result, size_t name_width) {
  return absl::StrFormat("%s  %-*s  %s", OutcomeName(result.verdict.outcome),
                         static_cast<int>(name_width), result.name,
                         result.verdict.detail);
}

std::string FormatJson(const std::vector<CheckResult>& results) {
  nlohmann::json out = {{"results", nlohmann::json::array()}};
  int counts[3] = {0, 0, 0};
  for (const CheckResult& r : results) {
    ++counts[static_cast<int>(r.verdict.outcome)];
    out["results"].push_back(
        {{"name", r.name},
         {"outcome", std::string(OutcomeName(r.verdict.outcome))},
         {"detail", r.verdict.detail},
         {"durationMs", absl::ToInt64Milliseconds(r.duration)}});
  }
  out["pass"] = counts[static_cast<int>(Outcome::kPass)];
  out["fail"] = counts[static_cast<int>(Outcome::kFail)];
  out["skip"] = counts[static_cast<int>(Outcome::kSkip)];
  // Details come from runtimes' error messages: never let invalid UTF-8
  // in one of them abort the dump.
  return out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

bool NoFailures(const std::vector<CheckResult>& results) {
  for (const CheckResult& r : results) {
    if (r.verdict.outcome == Outcome::kFail) return false;
  }
  return true;
}

}  // namespace podsandbox::harness
