// The build's identity, for `podsandboxd --version`, `podsandboxctl
// --version` and the daemon's startup line: the release version, the git
// commit the binary was built from and Bazel's compilation mode.
//
// The commit and the mode are stamped by //cri/version:stamp at build time:
// the commit from scripts/workspace_status ("unknown" without git, "-dirty"
// appended for uncommitted changes), the mode from `bazel build -c`
// ("opt", "fastbuild" or "dbg"). Thread-safe: constants.
#ifndef PODSANDBOX_CRI_VERSION_VERSION_H_
#define PODSANDBOX_CRI_VERSION_VERSION_H_

#include <string>

#include "absl/strings/string_view.h"

namespace podsandbox::cri::version {

// The release version, also RuntimeService.Version's runtime_version.
inline constexpr char kVersion[] = "0.1.0";

// The full commit id, maybe with "-dirty", or "unknown".
absl::string_view Commit();

// "opt", "fastbuild" or "dbg".
absl::string_view BuildType();

// What --version prints, three lines ending in a newline:
//   podsandboxd 0.1.0
//   commit: 0123abcd...
//   build: opt
std::string VersionText(absl::string_view program);

}  // namespace podsandbox::cri::version

#endif  // PODSANDBOX_CRI_VERSION_VERSION_H_
