#include "cni/version.h"

#include <algorithm>
#include <array>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace podsandbox::cni {
namespace {

constexpr std::array<absl::string_view, 7> kKnownVersions = {
    "0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"};

// {major, minor, patch}, or {-1, -1, -1} for text that is not a version.
std::array<int, 3> Parts(absl::string_view version) {
  std::vector<absl::string_view> parts = absl::StrSplit(version, '.');
  std::array<int, 3> out = {-1, -1, -1};
  if (parts.size() != 3) return out;
  for (int i = 0; i < 3; ++i) {
    if (!absl::SimpleAtoi(parts[i], &out[i]) || out[i] < 0) {
      return {-1, -1, -1};
    }
  }
  return out;
}

}  // namespace

bool IsKnownVersion(absl::string_view version) {
  return std::find(kKnownVersions.begin(), kKnownVersions.end(), version) !=
         kKnownVersions.end();
}

bool IsSupportedVersion(absl::string_view version) {
  return IsKnownVersion(version) && CompareVersions(version, "0.3.0") >= 0;
}

int CompareVersions(absl::string_view a, absl::string_view b) {
  std::array<int, 3> pa = Parts(a);
  std::array<int, 3> pb = Parts(b);
  if (pa < pb) return -1;
  if (pb < pa) return 1;
  return 0;
}

bool SupportsStatusAndGc(absl::string_view version) {
  return CompareVersions(version, "1.1.0") >= 0;
}

bool SupportsCheck(absl::string_view version) {
  return CompareVersions(version, "0.4.0") >= 0;
}

absl::StatusOr<std::string> NegotiateVersion(
    const std::vector<std::string>& wanted,
    const std::vector<std::vector<std::string>>& plugin_supported) {
  std::string best;
  for (const std::string& v : wanted) {
    if (!IsSupportedVersion(v)) continue;
    bool everywhere =
        std::all_of(plugin_supported.begin(), plugin_supported.end(),
                    [&](const std::vector<std::string>& supported) {
                      return std::find(supported.begin(), supported.end(), v) !=
                             supported.end();
                    });
    if (everywhere && (best.empty() || CompareVersions(v, best) > 0)) best = v;
  }
  if (best.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "incompatible CNI versions: config wants [",
        absl::StrJoin(wanted, ", "), "], not supported by every plugin"));
  }
  return best;
}

}  // namespace podsandbox::cni
