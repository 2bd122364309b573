#include "harness/cri_client.h"

#include "gtest/gtest.h"

namespace podsandbox::harness {
namespace {

TEST(ParsePodInfoTest, PodsandboxdShape) {
  absl::StatusOr<PodInfo> info = ParsePodInfo(R"({"pid": 4242,
      "netNamespacePath": "/run/psb/netns/abc", "runtimeType": "runc",
      "userNamespace": {"path": "/run/psb/userns/abc", "uidMappings": []}})");
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->pid, 4242);
  EXPECT_EQ(info->netns_path, "/run/psb/netns/abc");
  EXPECT_EQ(info->userns_path, "/run/psb/userns/abc");
  EXPECT_EQ(info->runtime_type, "runc");
}

TEST(ParsePodInfoTest, PodWithoutAPauseNamesItsPins) {
  absl::StatusOr<PodInfo> info = ParsePodInfo(R"({"infra": "none",
      "netNamespacePath": "/run/psb/netns/abc",
      "utsNamespacePath": "/run/psb/uts/abc",
      "ipcNamespacePath": "/run/psb/ipc/abc",
      "userNamespace": {"path": "/run/psb/userns/abc"}})");
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_FALSE(info->pid.has_value());
  EXPECT_EQ(info->infra, "none");
  EXPECT_EQ(info->uts_path, "/run/psb/uts/abc");
  EXPECT_EQ(info->ipc_path, "/run/psb/ipc/abc");
  EXPECT_EQ(info->userns_path, "/run/psb/userns/abc");
}

TEST(ParsePodInfoTest, ContainerdNetnsFromRuntimeSpec) {
  absl::StatusOr<PodInfo> info = ParsePodInfo(R"({"pid": 7,
      "runtimeType": "io.containerd.runc.v2",
      "runtimeSpec": {"linux": {"namespaces": [{"type": "pid"},
        {"type": "network", "path": "/var/run/netns/cni-1"}]}}})");
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->pid, 7);
  EXPECT_EQ(info->netns_path, "/var/run/netns/cni-1");
  EXPECT_EQ(info->userns_path, "");
}

TEST(ParsePodInfoTest, StoppedOrMissingPidIsNone) {
  absl::StatusOr<PodInfo> info = ParsePodInfo(R"({"pid": 0})");
  ASSERT_TRUE(info.ok());
  EXPECT_FALSE(info->pid.has_value());
  info = ParsePodInfo(R"({"pid": "12", "runtimeSpec": 3})");
  ASSERT_TRUE(info.ok());
  EXPECT_FALSE(info->pid.has_value());
  EXPECT_EQ(info->netns_path, "");
}

TEST(ParsePodInfoTest, NotAnObject) {
  EXPECT_EQ(ParsePodInfo("[1]").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParsePodInfo("{").status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace podsandbox::harness
