#include "sys/testing/dir_names.h"

#include <vector>

#include "sys/file.h"

namespace podsandbox::sys::testing {

std::set<std::string> DirNames(absl::string_view dir) {
  std::vector<std::string> names =
      sys::ListDir(dir).value_or(std::vector<std::string>{});
  return std::set<std::string>(names.begin(), names.end());
}

}  // namespace podsandbox::sys::testing
