// PlanFromOciSpec turns the config.json that oci/spec.h writes for the
// pause into the launcher's steps, and refuses what the builtin does not do
// before anything happens.
#include "oci/builtin_launcher.h"

#include <sched.h>
#include <sys/mount.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "oci/spec.h"
#include "sys/testing/status_matchers.h"

namespace podsandbox::oci {
namespace {

using ::podsandbox::sys::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

TaskSpec UsernsSpec() {
  TaskSpec spec;
  spec.sandbox_id = "abc";
  spec.hostname = "pod-host";
  spec.netns_path = "/run/ns/netns/abc";
  spec.userns_path = "/run/ns/userns/abc";
  spec.id_mappings =
      userns::IdMappings{{{0, 100000, 65536}}, {{0, 100000, 65536}}};
  spec.cgroup_parent = "/kubepods";
  spec.sysctls = {{"net.ipv4.ping_group_range", "0 1"}};
  return spec;
}

nlohmann::json Config(const TaskSpec& spec) {
  absl::StatusOr<nlohmann::json> config =
      BuildOciSpec(spec, RuntimeType::kBuiltin, "/run/rootfs");
  EXPECT_TRUE(config.ok()) << config.status();
  return *config;
}

TEST(PlanFromOciSpecTest, PodSpecBecomesJoinsUnsharesAndMounts) {
  absl::StatusOr<LaunchPlan> plan = PlanFromOciSpec(Config(UsernsSpec()));
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->userns, "/run/ns/userns/abc");
  EXPECT_EQ(plan->netns, "/run/ns/netns/abc");
  EXPECT_EQ(plan->unshare_flags,
            CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID);
  EXPECT_EQ(plan->hostname, "pod-host");
  EXPECT_EQ(plan->rootfs, "/run/rootfs");
  EXPECT_TRUE(plan->readonly_root);
  EXPECT_EQ(plan->uid, kPauseId);
  EXPECT_EQ(plan->gid, kPauseId);
  EXPECT_TRUE(plan->no_new_privileges);
  EXPECT_EQ(plan->args, std::vector<std::string>{"/pause"});

  bool proc = false, sys_ro = false, sysctl = false, masked_kcore = false,
       ro_proc_sys = false;
  for (const MountStep& m : plan->mounts) {
    if (m.kind == MountStep::Kind::kMount && m.target == "/run/rootfs/proc") {
      proc = m.fstype == "proc" && (m.flags & MS_NOSUID) != 0;
    }
    if (m.kind == MountStep::Kind::kMount && m.target == "/run/rootfs/sys") {
      sys_ro = m.fstype == "sysfs" && (m.flags & MS_RDONLY) != 0;
    }
    if (m.kind == MountStep::Kind::kWrite) {
      sysctl = m.target == "/run/rootfs/proc/sys/net/ipv4/ping_group_range" &&
               m.data == "0 1";
    }
    masked_kcore |= m.kind == MountStep::Kind::kMask &&
                    m.target == "/run/rootfs/proc/kcore";
    ro_proc_sys |= m.kind == MountStep::Kind::kReadonly &&
                   m.target == "/run/rootfs/proc/sys";
  }
  EXPECT_TRUE(proc);
  EXPECT_TRUE(sys_ro);
  EXPECT_TRUE(sysctl);
  EXPECT_TRUE(masked_kcore);
  EXPECT_TRUE(ro_proc_sys);
}

TEST(PlanFromOciSpecTest, HostNamespacesAreNotUnshared) {
  TaskSpec spec = UsernsSpec();
  spec.netns_path.clear();
  spec.userns_path.clear();
  spec.id_mappings.reset();
  spec.host_pid = true;
  spec.host_ipc = true;
  absl::StatusOr<LaunchPlan> plan = PlanFromOciSpec(Config(spec));
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->unshare_flags, CLONE_NEWNS);
  EXPECT_THAT(plan->netns, IsEmpty());
  EXPECT_THAT(plan->userns, IsEmpty());
  EXPECT_THAT(plan->hostname, IsEmpty());
}

TEST(PlanFromOciSpecTest, RefusesCapabilities) {
  nlohmann::json config = Config(UsernsSpec());
  config["process"]["capabilities"]["bounding"] = {"CAP_KILL"};
  EXPECT_THAT(PlanFromOciSpec(config).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("process.capabilities.bounding")));
}

TEST(PlanFromOciSpecTest, HostNetworkUsernsAsksForANewOneWithItsMaps) {
  TaskSpec spec = UsernsSpec();
  spec.netns_path.clear();
  spec.userns_path.clear();
  absl::StatusOr<LaunchPlan> plan = PlanFromOciSpec(Config(spec));
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_THAT(plan->userns, IsEmpty());
  ASSERT_TRUE(plan->new_userns.has_value());
  EXPECT_EQ(*plan->new_userns, *spec.id_mappings);
  // /sys is the host's, bound recursively read-only.
  bool sys_rro = false;
  for (const MountStep& m : plan->mounts) {
    if (m.target == "/run/rootfs/sys") {
      sys_rro = (m.flags & MS_BIND) != 0 && m.recursive_readonly;
    }
  }
  EXPECT_TRUE(sys_rro);
}

TEST(PlanFromOciSpecTest, RefusesANewUserNamespaceWithoutMaps) {
  nlohmann::json config = Config(UsernsSpec());
  for (nlohmann::json& ns : config["linux"]["namespaces"]) {
    if (ns["type"] == "user") ns.erase("path");
  }
  config["linux"].erase("uidMappings");
  EXPECT_THAT(PlanFromOciSpec(config).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("linux.uidMappings")));
}

TEST(PlanFromOciSpecTest, RefusesUnknownBindOptions) {
  nlohmann::json config = Config(UsernsSpec());
  config["mounts"].push_back({{"destination", "/x"},
                              {"type", "bind"},
                              {"source", "/tmp"},
                              {"options", {"rbind", "weird"}}});
  EXPECT_THAT(PlanFromOciSpec(config).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("unknown option \"weird\"")));
}

}  // namespace
}  // namespace podsandbox::oci
