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
#include "metrics/registry.h"
#include "nlohmann/json.hpp"
#include "sys/log.h"
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

TEST(LogRpcTest, JsonFormatWritesOneObjectPerRpcWithTheSameFields) {
  sys::SetLogFormat(sys::LogFormat::kJson);
  std::string out = CaptureStderr([] {
    LogRpc("RunPodSandbox", "default/web", absl::Now(), {});
    LogRpc("StopPodSandbox", "default/a\nb", absl::Now(),
           absl::NotFoundError("pod sandbox \"x\" not found"));
  });
  sys::SetLogFormat(sys::LogFormat::kText);
  std::vector<std::string> lines = Lines(out);
  ASSERT_THAT(lines, SizeIs(2)) << out;
  nlohmann::json ok = nlohmann::json::parse(lines[0], nullptr, false);
  ASSERT_FALSE(ok.is_discarded()) << lines[0];
  EXPECT_EQ(ok["level"], "info");
  EXPECT_EQ(ok["rpc"], "RunPodSandbox");
  EXPECT_EQ(ok["pod"], "default/web");
  EXPECT_EQ(ok["code"], "OK");
  EXPECT_TRUE(ok["duration"].is_string());
  EXPECT_TRUE(ok["time"].is_string());
  EXPECT_FALSE(ok.contains("error"));
  nlohmann::json failed = nlohmann::json::parse(lines[1], nullptr, false);
  ASSERT_FALSE(failed.is_discarded()) << lines[1];
  EXPECT_EQ(failed["code"], "NOT_FOUND");
  // LogSafe's escaping survives inside the JSON string.
  EXPECT_EQ(failed["pod"], "default/a\\nb");
  EXPECT_EQ(failed["error"], "pod sandbox \"x\" not found");
}

TEST(LogRpcTest, ObservesTheLatencyByMethodAndCode) {
  metrics::HistogramFamily& family = metrics::DefaultRegistry().Histogram(
      "podsandbox_rpc_duration_seconds", "", {"method", "code"},
      metrics::LatencyBuckets());
  const double ok_before = family.Value({"ListPodSandbox", "OK"});
  const double bad_before =
      family.Value({"ListPodSandbox", "INVALID_ARGUMENT"});
  CaptureStderr([] {
    LogRpc("ListPodSandbox", "", absl::Now(), {});
    LogRpc("ListPodSandbox", "", absl::Now(), {});
    LogRpc("ListPodSandbox", "", absl::Now(),
           absl::InvalidArgumentError("filter"));
  });
  EXPECT_EQ(family.Value({"ListPodSandbox", "OK"}), ok_before + 2);
  EXPECT_EQ(family.Value({"ListPodSandbox", "INVALID_ARGUMENT"}),
            bad_before + 1);
  EXPECT_THAT(metrics::DefaultRegistry().WriteText(),
              HasSubstr("podsandbox_rpc_duration_seconds_bucket{method="
                        "\"ListPodSandbox\",code=\"OK\",le=\"+Inf\"}"));
}

}  // namespace
}  // namespace podsandbox::cri
