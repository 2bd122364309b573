// The entries of a directory as a sorted set, for tests that compare what a
// directory holds (what a failed step left in tmp/, which fds are open)
// with ==, IsEmpty() or ElementsAre().
#ifndef PODSANDBOX_SYS_TESTING_DIR_NAMES_H_
#define PODSANDBOX_SYS_TESTING_DIR_NAMES_H_

#include <set>
#include <string>

#include "absl/strings/string_view.h"

namespace podsandbox::sys::testing {

// The names in `dir` but "." and ".."; empty when `dir` does not exist or
// cannot be read (sys::ListDir's errors are not told apart: a test that
// cares reads it itself).
std::set<std::string> DirNames(absl::string_view dir);

}  // namespace podsandbox::sys::testing

#endif  // PODSANDBOX_SYS_TESTING_DIR_NAMES_H_
