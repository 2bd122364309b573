// CNI spec versions: which ones exist, which ones this runtime speaks, and
// picking the highest version a config and a set of plugins share.
//
// We write configs and parse results for 0.3.0 and later (the result format
// of 0.1.0/0.2.0 is a different shape and no current plugin needs it).
// STATUS and GC exist from 1.1.0 on and must never reach an older plugin.
#ifndef PODSANDBOX_CNI_VERSION_H_
#define PODSANDBOX_CNI_VERSION_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace podsandbox::cni {

// Whether `version` is a released spec version ("0.1.0" ... "1.1.0").
bool IsKnownVersion(absl::string_view version);

// Whether we can run plugins at `version`: known and at least 0.3.0.
bool IsSupportedVersion(absl::string_view version);

// <0, 0 or >0 as a is older than, equal to or newer than b. Both must be
// "X.Y.Z" with decimal parts; anything else sorts before every version.
int CompareVersions(absl::string_view a, absl::string_view b);

// Whether STATUS and GC may be sent to a plugin at `version` (>= 1.1.0).
bool SupportsStatusAndGc(absl::string_view version);

// Whether CHECK exists at `version` (>= 0.4.0).
bool SupportsCheck(absl::string_view version);

// The highest version in `wanted` (the config's cniVersion plus any
// cniVersions) that we support and that every list in `plugin_supported`
// contains. FailedPrecondition ("incompatible CNI versions") when there is
// none.
absl::StatusOr<std::string> NegotiateVersion(
    const std::vector<std::string>& wanted,
    const std::vector<std::vector<std::string>>& plugin_supported);

}  // namespace podsandbox::cni

#endif  // PODSANDBOX_CNI_VERSION_H_
