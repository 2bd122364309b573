#include "cri/version/version.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "cri/version/stamp.h"

namespace podsandbox::cri::version {

absl::string_view Commit() { return PODSANDBOX_STAMP_COMMIT; }

absl::string_view BuildType() { return PODSANDBOX_STAMP_BUILD_TYPE; }

std::string VersionText(absl::string_view program) {
  return absl::StrCat(program, " ", kVersion, "\ncommit: ", Commit(),
                      "\nbuild: ", BuildType(), "\n");
}

}  // namespace podsandbox::cri::version
