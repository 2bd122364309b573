#include "container/validation.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "sys/testing/status_matchers.h"
#include "sys/testing/temp_dir.h"

namespace podsandbox::container {
namespace {

using ::podsandbox::sys::testing::StatusIs;
using ::testing::HasSubstr;

ContainerConfig Good() {
  ContainerConfig c;
  c.metadata.name = "app";
  c.image = "busybox:latest";
  c.command = {"/bin/sh"};
  c.args = {"-c", "true"};
  c.envs = {{"A", "1"}};
  c.log_path = "app/0.log";
  return c;
}

PodContext UsernsPod() {
  PodContext pod;
  pod.id_mappings =
      userns::IdMappings{{{0, 100000, 65536}}, {{0, 100000, 65536}}};
  return pod;
}

// Expects InvalidArgument whose message starts with `field`.
void ExpectInvalid(const ContainerConfig& c, const std::string& field,
                   const std::string& reason = "",
                   const PodContext& pod = PodContext()) {
  EXPECT_THAT(ValidateContainerConfig(c, pod),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       ::testing::AllOf(::testing::StartsWith(field + ": "),
                                        HasSubstr(reason))));
}

TEST(ValidationTest, GoodConfigPasses) {
  EXPECT_OK(ValidateContainerConfig(Good(), PodContext()));
  EXPECT_OK(ValidateContainerConfig(Good(), UsernsPod()));
}

TEST(ValidationTest, MetadataAndImage) {
  ContainerConfig c = Good();
  c.metadata.name = "";
  ExpectInvalid(c, "config.metadata.name", "must not be empty");
  c.metadata.name = "a/b";
  ExpectInvalid(c, "config.metadata.name", "[A-Za-z0-9._-]");
  c.metadata.name = std::string(254, 'a');
  ExpectInvalid(c, "config.metadata.name", "253");
  c = Good();
  c.image = "";
  ExpectInvalid(c, "config.image.image");
}

TEST(ValidationTest, StdinAndTtyAreUnimplemented) {
  for (int i = 0; i < 3; ++i) {
    ContainerConfig c = Good();
    (i == 0 ? c.stdin_ : i == 1 ? c.stdin_once : c.tty) = true;
    EXPECT_THAT(
        ValidateContainerConfig(c, PodContext()),
        StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("needs Attach")));
  }
}

TEST(ValidationTest, ProcessFieldsAreBounded) {
  ContainerConfig c = Good();
  c.args.assign(5000, "x");
  ExpectInvalid(c, "config.command", "more than 4096");
  c = Good();
  c.args = {std::string("a\0b", 3)};
  ExpectInvalid(c, "config.args[0]", "NUL");
  c = Good();
  c.envs = {{"A", "1"}, {"B=C", "2"}};
  ExpectInvalid(c, "config.envs[1].key", "'='");
  c.envs = {{"", "2"}};
  ExpectInvalid(c, "config.envs[0].key", "empty");
  c.envs = {{"BIG", std::string(2 << 20, 'x')}};
  ExpectInvalid(c, "config.envs", "more than 1048576");
  c = Good();
  c.working_dir = "relative";
  ExpectInvalid(c, "config.working_dir", "absolute");
  c = Good();
  c.log_path = "/var/log/x.log";
  ExpectInvalid(c, "config.log_path", "relative");
  c.log_path = "../../etc/shadow";
  ExpectInvalid(c, "config.log_path", "relative");
}

TEST(ValidationTest, MountsNeedAnExistingHostPath) {
  sys::TempDir dir;
  ContainerConfig c = Good();
  c.mounts = {{"/data", dir.path(), false, false, MountPropagation::kPrivate}};
  EXPECT_OK(ValidateContainerConfig(c, PodContext()));
  c.mounts[0].host_path = dir.Sub("missing");
  ExpectInvalid(c, "config.mounts[0].host_path",
                "does not exist (podsandboxd never creates host paths)");
  c.mounts[0].host_path = "relative";
  ExpectInvalid(c, "config.mounts[0].host_path", "absolute");
}

TEST(ValidationTest, MountDestinations) {
  sys::TempDir dir;
  ContainerConfig c = Good();
  Mount m{"/data", dir.path(), false, false, MountPropagation::kPrivate};
  c.mounts = {m, m};
  c.mounts[1].container_path = "/data/";
  ExpectInvalid(c, "config.mounts[1].container_path", "mounted twice");
  c.mounts = {m};
  c.mounts[0].container_path = "/";
  ExpectInvalid(c, "config.mounts[0].container_path", "root");
  c.mounts[0].container_path = "/proc/sys";
  ExpectInvalid(c, "config.mounts[0].container_path", "/proc");
  c.mounts[0].container_path = "/a/../etc";
  ExpectInvalid(c, "config.mounts[0].container_path", "\"..\"");
  c.mounts = {m};
  c.mounts[0].recursive_read_only = true;
  ExpectInvalid(c, "config.mounts[0].recursive_read_only", "needs readonly");
  c.mounts[0].readonly = true;
  c.mounts[0].propagation = MountPropagation::kHostToContainer;
  ExpectInvalid(c, "config.mounts[0].recursive_read_only",
                "PROPAGATION_PRIVATE");
  c.mounts[0].propagation = static_cast<MountPropagation>(7);
  c.mounts[0].recursive_read_only = false;
  ExpectInvalid(c, "config.mounts[0].propagation");
  c.mounts.assign(300, m);
  ExpectInvalid(c, "config.mounts", "more than 256");
}

// Refused before the host is looked at: the host path here does not exist,
// and it is the propagation that is named.
TEST(ValidationTest, BidirectionalIsRefusedInAUserNamespacedPod) {
  ContainerConfig c = Good();
  c.mounts = {{"/data", "/nonexistent/psb-volume", false, false,
               MountPropagation::kBidirectional}};
  ExpectInvalid(c, "config.mounts[0].propagation", "user namespace",
                UsernsPod());
  // Outside one it is the host path's turn.
  ExpectInvalid(c, "config.mounts[0].host_path", "does not exist");
}

TEST(ValidationTest, HostPropagationIsTheInnermostMounts) {
  const char* kMountinfo =
      "27 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n"
      "40 27 0:40 / /srv rw,relatime - tmpfs t rw\n"
      "41 40 0:41 / /srv/data rw,relatime shared:7 master:3 - tmpfs t rw\n"
      "42 40 0:42 / /srv/in rw,relatime master:3 - tmpfs t rw\n"
      "43 40 0:43 / /srv/my\\040dir rw - tmpfs t rw\n"
      "44 43 0:44 / /srv/my\\040dir rw shared:9 - tmpfs t rw\n"
      "garbage\n";
  EXPECT_EQ(HostPropagationOf(kMountinfo, "/"), HostPropagation::kShared);
  EXPECT_EQ(HostPropagationOf(kMountinfo, "/var/x"), HostPropagation::kShared);
  EXPECT_EQ(HostPropagationOf(kMountinfo, "/srv"), HostPropagation::kPrivate);
  EXPECT_EQ(HostPropagationOf(kMountinfo, "/srv/x"), HostPropagation::kPrivate);
  // A shared mount that is also a slave is shared.
  EXPECT_EQ(HostPropagationOf(kMountinfo, "/srv/data/a"),
            HostPropagation::kShared);
  // A sibling whose name starts the same is not a parent.
  EXPECT_EQ(HostPropagationOf(kMountinfo, "/srv/database"),
            HostPropagation::kPrivate);
  EXPECT_EQ(HostPropagationOf(kMountinfo, "/srv/in"), HostPropagation::kSlave);
  // Escaped names; the later mount on the same point covers the earlier.
  EXPECT_EQ(HostPropagationOf(kMountinfo, "/srv/my dir/f"),
            HostPropagation::kShared);
  EXPECT_EQ(HostPropagationOf("", "/x"), HostPropagation::kPrivate);
}

TEST(ValidationTest, DevicesMustBeDeviceNodes) {
  sys::TempDir dir;
  ContainerConfig c = Good();
  c.devices = {{"/dev/mynull", "/dev/null", "rw"}};
  EXPECT_OK(ValidateContainerConfig(c, PodContext()));
  c.devices[0].permissions = "rwx";
  ExpectInvalid(c, "config.devices[0].permissions", "rwm");
  c.devices[0] = {"/dev/x", dir.path(), "r"};
  ExpectInvalid(c, "config.devices[0].host_path", "not a device node");
  c.devices[0] = {"/etc/x", "/dev/null", "r"};
  ExpectInvalid(c, "config.devices[0].container_path", "below /dev");
}

TEST(ValidationTest, LabelsAreBounded) {
  ContainerConfig c = Good();
  c.annotations["big"] = std::string((1 << 20) + 1, 'x');
  ExpectInvalid(c, "config.labels", "more than 1048576");
  c = Good();
  c.labels[""] = "x";
  ExpectInvalid(c, "config.labels", "empty key");
}

TEST(ValidationTest, Resources) {
  struct Case {
    void (*set)(Resources&);
    const char* field;
  } cases[] = {
      {[](Resources& r) { r.cpu_period = 10; }, "cpu_period"},
      {[](Resources& r) { r.cpu_quota = 5; }, "cpu_quota"},
      {[](Resources& r) { r.cpu_shares = 1; }, "cpu_shares"},
      {[](Resources& r) { r.memory_limit_in_bytes = -5; },
       "memory_limit_in_bytes"},
      {[](Resources& r) {
         r.memory_limit_in_bytes = 100 << 20;
         r.memory_swap_limit_in_bytes = 50 << 20;
       },
       "memory_swap_limit_in_bytes"},
      {[](Resources& r) { r.oom_score_adj = 1001; }, "oom_score_adj"},
      {[](Resources& r) { r.cpuset_cpus = "0-3;5"; }, "cpuset_cpus"},
      {[](Resources& r) { r.cpuset_mems = "a"; }, "cpuset_mems"},
  };
  for (const Case& k : cases) {
    ContainerConfig c = Good();
    k.set(c.resources);
    ExpectInvalid(c, std::string("config.linux.resources.") + k.field);
  }
  ContainerConfig ok = Good();
  ok.resources = {100000, 50000, 512, 64 << 20, 128 << 20, 500, "0-1,3", "0"};
  EXPECT_OK(ValidateContainerConfig(ok, PodContext()));
  ok.resources.cpu_quota = -1;
  EXPECT_OK(ValidateContainerConfig(ok, PodContext()));
}

TEST(ValidationTest, CapabilityNames) {
  ContainerConfig c = Good();
  c.security.capabilities.add = {"NET_ADMIN", "cap_sys_time", "ALL"};
  c.security.capabilities.drop = {"all", "CAP_KILL"};
  EXPECT_OK(ValidateContainerConfig(c, PodContext()));
  c.security.capabilities.add = {"NET_ADMIN", "NET_FLY"};
  ExpectInvalid(c,
                "config.linux.security_context.capabilities.add_"
                "capabilities[1]",
                "unknown capability \"NET_FLY\"");
  c.security.capabilities.add.clear();
  c.security.capabilities.drop = {"CAP_"};
  ExpectInvalid(
      c, "config.linux.security_context.capabilities.drop_capabilities[0]");
}

TEST(ValidationTest, PrivilegedNeedsAPrivilegedPodUsernsOrNot) {
  ContainerConfig c = Good();
  c.security.privileged = true;
  ExpectInvalid(c, "config.linux.security_context.privileged",
                "needs a privileged pod");
  PodContext pod = UsernsPod();
  ExpectInvalid(c, "config.linux.security_context.privileged",
                "needs a privileged pod", pod);
  pod.privileged = true;
  EXPECT_OK(ValidateContainerConfig(c, pod));
}

TEST(ValidationTest, IdsMustBeMappedByThePodsUserNamespace) {
  ContainerConfig c = Good();
  c.security.run_as_user = 70000;
  EXPECT_OK(ValidateContainerConfig(c, PodContext()));
  ExpectInvalid(c, "config.linux.security_context.run_as_user",
                "70000 is not mapped by the pod's user namespace", UsernsPod());
  c = Good();
  c.security.run_as_group = 65536;
  ExpectInvalid(c, "config.linux.security_context.run_as_group", "not mapped",
                UsernsPod());
  c = Good();
  c.security.supplemental_groups = {5, 99999};
  ExpectInvalid(c, "config.linux.security_context.supplemental_groups[1]",
                "not mapped", UsernsPod());
  c = Good();
  c.security.run_as_user = -3;
  ExpectInvalid(c, "config.linux.security_context.run_as_user",
                "not a valid id");
  c = Good();
  c.security.run_as_username = "a:b";
  ExpectInvalid(c, "config.linux.security_context.run_as_username");
}

TEST(ValidationTest, RunAsGroupNeedsAUser) {
  ContainerConfig c = Good();
  c.security.run_as_group = 1002;
  ExpectInvalid(c, "config.linux.security_context.run_as_group",
                "needs run_as_user or run_as_username");
  c.security.run_as_user = 1001;
  EXPECT_OK(ValidateContainerConfig(c, PodContext()));
  c.security.run_as_user.reset();
  c.security.run_as_username = "nobody";
  EXPECT_OK(ValidateContainerConfig(c, PodContext()));
}

TEST(ValidationTest, MaskedPathsAndProfiles) {
  ContainerConfig c = Good();
  c.security.masked_paths = {"/proc/kcore", "relative"};
  ExpectInvalid(c, "config.linux.security_context.masked_paths[1]", "absolute");
  c = Good();
  c.security.readonly_paths.assign(300, "/proc/sys");
  ExpectInvalid(c, "config.linux.security_context.readonly_paths",
                "more than 256");
  c = Good();
  c.security.seccomp = {ProfileType::kLocalhost, ""};
  ExpectInvalid(c, "config.linux.security_context.seccomp.localhost_ref",
                "required");
  c.security.seccomp = {ProfileType::kLocalhost, "profiles/x.json"};
  ExpectInvalid(c, "config.linux.security_context.seccomp.localhost_ref",
                "absolute");
  c.security.seccomp = {ProfileType::kUnconfined, "/x.json"};
  ExpectInvalid(c, "config.linux.security_context.seccomp.localhost_ref",
                "other than Localhost");
  c.security.seccomp = {static_cast<ProfileType>(9), ""};
  ExpectInvalid(c, "config.linux.security_context.seccomp",
                "unknown profile_type");
  c = Good();
  c.security.apparmor = SecurityProfile{ProfileType::kLocalhost, ""};
  ExpectInvalid(c, "config.linux.security_context.apparmor.localhost_ref",
                "required");
}

}  // namespace
}  // namespace podsandbox::container
