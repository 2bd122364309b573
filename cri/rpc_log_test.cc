#include "cri/rpc_log.h"

#include <stdio.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sys/testing/capture_stderr.h"

namespace podsandbox::cri {
namespace {

using ::podsandbox::sys::testing::CaptureStderr;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::SizeIs;

std::vector<std::string> Lines(const std::string& out) {
  return absl::StrSplit(out, '\n', absl::SkipEmpty());
}

TEST(LogRpcTest, KeepsTheStablePrefix) {
  std::string out = CaptureStderr(
      [] { LogRpc("RunPodSandbox", "default/web", absl::Now(), {}); });
  EXPECT_THAT(out, HasSubstr("rpc=RunPodSandbox pod=default/web code=OK "));
}

// kubelet's own names cannot hold a newline, but any client can send one:
// the pod and the message it is quoted in stay on one line, escaped.
TEST(LogRpcTest, APodNameWithANewlineCannotForgeALine) {
  const std::string pod =
      "default/web\nrpc=RemovePodSandbox pod=default/db code=OK";
  std::string out = CaptureStderr([&] {
    LogRpc("RunPodSandbox", pod, absl::Now(),
           absl::InvalidArgumentError(
               "config.metadata.name: \"web\nrpc=forged\""));
  });
  ASSERT_THAT(Lines(out), SizeIs(1)) << out;
  EXPECT_THAT(out, HasSubstr("pod=default/web\\nrpc=RemovePodSandbox "
                             "pod=default/db code=OK code=INVALID_ARGUMENT"));
  EXPECT_THAT(out,
              HasSubstr("error=config.metadata.name: \"web\\nrpc=forged\""));
}

TEST(LogRpcTest, LongPodAndMessageAreCapped) {
  std::string out = CaptureStderr([] {
    LogRpc("RunPodSandbox", std::string(300, 'p'), absl::Now(),
           absl::InvalidArgumentError(std::string(2000, 'm')));
  });
  ASSERT_THAT(Lines(out), SizeIs(1));
  EXPECT_THAT(out, HasSubstr(std::string(256, 'p') + "...(44 more bytes) "));
  EXPECT_THAT(out, HasSubstr(std::string(1024, 'm') + "...(976 more bytes)"));
  EXPECT_THAT(out, Not(HasSubstr(std::string(257, 'p'))));
}

}  // namespace
}  // namespace podsandbox::cri
