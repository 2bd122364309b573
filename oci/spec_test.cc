#include "oci/spec.h"

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "sys/file.h"
#include "sys/testing/status_matchers.h"

namespace podsandbox::oci {
namespace {

using ::podsandbox::sys::testing::IsOkAndHolds;
using ::podsandbox::sys::testing::StatusIs;
using ::testing::HasSubstr;

constexpr char kRootfs[] = "/run/podsandbox/pause-rootfs";
constexpr char kId[] =
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const userns::IdMappings kMappings = {{{0, 100000, 65536}},
                                      {{0, 100000, 65536}}};

TaskSpec Plain() {
  TaskSpec spec;
  spec.sandbox_id = kId;
  spec.pod_name = "web";
  spec.pod_namespace = "default";
  spec.pod_uid = "5f1c2e3a-0000-4000-8000-000000000001";
  spec.hostname = "web";
  spec.netns_path = "/run/podsandbox/netns/" + std::string(kId);
  spec.cgroup_parent = "/kubepods/pod5f1c2e3a";
  spec.sysctls = {{"net.ipv4.ip_unprivileged_port_start", "0"}};
  spec.annotations = {{"example.com/team", "edge"},
                      // Ours must win over a request's.
                      {"io.kubernetes.cri.container-type", "container"}};
  return spec;
}

TaskSpec Userns() {
  TaskSpec spec = Plain();
  spec.id_mappings = kMappings;
  spec.userns_path = "/run/podsandbox/userns/" + std::string(kId);
  return spec;
}

TaskSpec HostNetwork() {
  TaskSpec spec = Plain();
  spec.netns_path.clear();
  return spec;
}

TaskSpec HostNetworkUserns() {
  TaskSpec spec = HostNetwork();
  spec.id_mappings = kMappings;
  return spec;
}

TaskSpec HostPidIpc() {
  TaskSpec spec = Plain();
  spec.host_pid = true;
  spec.host_ipc = true;
  return spec;
}

// Compares with oci/testdata/spec/<name>.json. With
// PSB_GOLDEN_OUT=<dir> (bazel test --test_env), writes the actual spec
// there instead, for review before committing.
void ExpectGolden(const std::string& name, const TaskSpec& spec,
                  RuntimeType type) {
  SCOPED_TRACE(name);
  absl::StatusOr<nlohmann::json> actual = BuildOciSpec(spec, type, kRootfs);
  ASSERT_TRUE(actual.ok()) << actual.status();
  if (const char* out = std::getenv("PSB_GOLDEN_OUT"); out != nullptr) {
    std::string path = absl::StrCat(out, "/", name, ".json");
    FILE* f = std::fopen(path.c_str(), "w");
    ASSERT_NE(f, nullptr) << path;
    std::string text = actual->dump(2) + "\n";
    std::fwrite(text.data(), 1, text.size(), f);
    std::fclose(f);
    return;
  }
  absl::StatusOr<std::string> text =
      sys::ReadFile(absl::StrCat("oci/testdata/spec/", name, ".json"));
  ASSERT_TRUE(text.ok()) << text.status();
  nlohmann::json golden = nlohmann::json::parse(*text, nullptr, false);
  ASSERT_FALSE(golden.is_discarded()) << name << ".json is not JSON";
  EXPECT_EQ(*actual, golden) << "actual:\n"
                             << actual->dump(2) << "\ndiff:\n"
                             << nlohmann::json::diff(golden, *actual).dump(2);
}

TEST(OciSpecGoldenTest, Plain) {
  ExpectGolden("plain", Plain(), RuntimeType::kRunc);
}
TEST(OciSpecGoldenTest, Userns) {
  ExpectGolden("userns", Userns(), RuntimeType::kRunc);
}
TEST(OciSpecGoldenTest, HostNetwork) {
  ExpectGolden("host_network", HostNetwork(), RuntimeType::kRunc);
}
TEST(OciSpecGoldenTest, HostNetworkUserns) {
  ExpectGolden("host_network_userns", HostNetworkUserns(), RuntimeType::kRunc);
}
TEST(OciSpecGoldenTest, HostPidIpc) {
  ExpectGolden("host_pid_ipc", HostPidIpc(), RuntimeType::kCrun);
}
TEST(OciSpecGoldenTest, RunscUserns) {
  ExpectGolden("runsc_userns", Userns(), RuntimeType::kRunsc);
}

// The rules the goldens encode, stated where a reader looks for them.
TEST(OciSpecTest, UsernsJoinsByPathWithTheSameMappings) {
  ASSERT_OK_AND_ASSIGN(nlohmann::json spec,
                       BuildOciSpec(Userns(), RuntimeType::kCrun, kRootfs));
  nlohmann::json user;
  for (const nlohmann::json& ns : spec["linux"]["namespaces"]) {
    if (ns["type"] == "user") user = ns;
  }
  EXPECT_EQ(user["path"], Userns().userns_path);
  EXPECT_EQ(spec["linux"]["uidMappings"][0]["hostID"], 100000);
  EXPECT_EQ(spec["process"]["user"]["uid"], 65535);
}

TEST(OciSpecTest, RunscGetsMappingsWithoutPath) {
  ASSERT_OK_AND_ASSIGN(nlohmann::json spec,
                       BuildOciSpec(Userns(), RuntimeType::kRunsc, kRootfs));
  for (const nlohmann::json& ns : spec["linux"]["namespaces"]) {
    if (ns["type"] == "user") EXPECT_FALSE(ns.contains("path"));
  }
  EXPECT_TRUE(spec["linux"].contains("uidMappings"));
}

// Host IPC: the host's mqueue is bound in only when the host has one
// mounted (runtimes refuse a missing bind source); an own IPC namespace
// gets a fresh mqueue mount.
TEST(OciSpecTest, HostIpcBindsTheHostsMqueueOnlyWhenMounted) {
  auto mqueue = [](const TaskSpec& spec) {
    absl::StatusOr<nlohmann::json> built =
        BuildOciSpec(spec, RuntimeType::kRunc, kRootfs);
    EXPECT_TRUE(built.ok()) << built.status();
    nlohmann::json found;
    if (!built.ok()) return found;
    for (const nlohmann::json& m : (*built)["mounts"]) {
      if (m["destination"] == "/dev/mqueue") found = m;
    }
    return found;
  };
  EXPECT_TRUE(mqueue(HostPidIpc()).is_null());
  TaskSpec with_host_mqueue = HostPidIpc();
  with_host_mqueue.host_mqueue = true;
  EXPECT_EQ(mqueue(with_host_mqueue)["type"], "bind");
  EXPECT_EQ(mqueue(with_host_mqueue)["source"], "/dev/mqueue");
  EXPECT_EQ(mqueue(Plain())["type"], "mqueue");
}

TEST(OciSpecTest, IsMqueueMountReadsTheFilesystemType) {
  EXPECT_FALSE(IsMqueueMount("/proc"));
  EXPECT_FALSE(IsMqueueMount("/nonexistent/mqueue"));
}

TEST(OciSpecTest, PauseRunsAsRootWhen65535IsNotMapped) {
  TaskSpec spec = Userns();
  spec.id_mappings =
      userns::IdMappings{{{0, 100000, 1000}}, {{0, 100000, 1000}}};
  EXPECT_THAT(PauseUser(spec), IsOkAndHolds(0u));
  spec.id_mappings = userns::IdMappings{{{1, 100000, 10}}, {{1, 100000, 10}}};
  EXPECT_THAT(PauseUser(spec), StatusIs(absl::StatusCode::kInvalidArgument,
                                        HasSubstr("task.id_mappings")));
}

TEST(OciSpecTest, DevptsGidOnlyWhenMapped) {
  TaskSpec spec = Userns();
  spec.id_mappings = userns::IdMappings{{{0, 100000, 65536}}, {{0, 100000, 1}}};
  // gid 65535 is unmapped, so the pause runs as 0 and devpts gets no gid=5.
  ASSERT_OK_AND_ASSIGN(nlohmann::json out,
                       BuildOciSpec(spec, RuntimeType::kRunc, kRootfs));
  for (const nlohmann::json& m : out["mounts"]) {
    if (m["destination"] == "/dev/pts") {
      EXPECT_EQ(std::count(m["options"].begin(), m["options"].end(), "gid=5"),
                0);
    }
  }
  EXPECT_EQ(out["process"]["user"]["gid"], 0);
}

TEST(OciSpecTest, PrivilegedDropsMaskedPathsAndMakesSysWritable) {
  TaskSpec spec = Plain();
  spec.privileged = true;
  ASSERT_OK_AND_ASSIGN(nlohmann::json out,
                       BuildOciSpec(spec, RuntimeType::kRunc, kRootfs));
  EXPECT_FALSE(out["linux"].contains("maskedPaths"));
  EXPECT_FALSE(out["linux"].contains("readonlyPaths"));
  EXPECT_TRUE(out["process"]["capabilities"]["bounding"].empty());
}

TEST(OciSpecTest, RefusesBadFieldsNamingThem) {
  struct Case {
    std::function<void(TaskSpec&)> mutate;
    std::string field;
  };
  std::vector<Case> cases = {
      {[](TaskSpec& s) { s.sandbox_id = ""; }, "task.sandbox_id"},
      {[](TaskSpec& s) { s.sandbox_id = "../x"; }, "task.sandbox_id"},
      {[](TaskSpec& s) { s.netns_path = "netns/x"; }, "task.netns_path"},
      {[](TaskSpec& s) { s.cgroup_parent = "/kubepods/../.."; },
       "task.cgroup_parent"},
      {[](TaskSpec& s) { s.userns_path = "/run/u"; }, "task.userns_path"},
      {[](TaskSpec& s) { s.id_mappings = kMappings; }, "task.userns_path"},
      {[](TaskSpec& s) { s.sysctls["kernel/../x"] = "1"; }, "task.sysctls"},
      {[](TaskSpec& s) { s.sysctls["net.a"] = "1\n2"; }, "task.sysctls"},
      {[](TaskSpec& s) { s.oom_score_adj = 1001; }, "task.oom_score_adj"},
      {[](TaskSpec& s) { s.hostname = std::string(65, 'h'); }, "task.hostname"},
  };
  for (const Case& c : cases) {
    TaskSpec spec = Plain();
    c.mutate(spec);
    EXPECT_THAT(
        BuildOciSpec(spec, RuntimeType::kRunc, kRootfs),
        StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.field)));
  }
  EXPECT_THAT(
      BuildOciSpec(Plain(), RuntimeType::kRunc, "rootfs"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("absolute")));
}

TEST(OciSpecTest, NegativeOomScoreAdjNeedsCapSysResource) {
  EXPECT_OK(CheckOomScoreAdj(0, false));
  EXPECT_OK(CheckOomScoreAdj(500, false));
  EXPECT_OK(CheckOomScoreAdj(-998, true));
  EXPECT_THAT(CheckOomScoreAdj(-998, false),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("CAP_SYS_RESOURCE")));
}

}  // namespace
}  // namespace podsandbox::oci
