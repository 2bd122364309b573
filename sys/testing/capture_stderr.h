// What a piece of code writes to stderr (our logger's only output), for
// tests of log lines.
#ifndef PODSANDBOX_SYS_TESTING_CAPTURE_STDERR_H_
#define PODSANDBOX_SYS_TESTING_CAPTURE_STDERR_H_

#include <string>
#include <utility>

#include "gtest/gtest.h"

namespace podsandbox::sys::testing {

// Runs `write` and returns what it wrote to stderr. gtest's capture
// redirects fd 2 itself, so writes that bypass stdio are caught too. Not
// reentrant: one capture at a time.
template <typename F>
std::string CaptureStderr(F&& write) {
  ::testing::internal::CaptureStderr();
  std::forward<F>(write)();
  return ::testing::internal::GetCapturedStderr();
}

}  // namespace podsandbox::sys::testing

#endif  // PODSANDBOX_SYS_TESTING_CAPTURE_STDERR_H_
