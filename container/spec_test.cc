#include "container/spec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "container/capabilities.h"
#include "oci/spec.h"
#include "sys/real_sys.h"
#include "sys/testing/status_matchers.h"
#include "sys/testing/temp_dir.h"

namespace podsandbox::container {
namespace {

using nlohmann::json;
using ::podsandbox::sys::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

image::ImageConfig Image() {
  image::ImageConfig image;
  image.entrypoint = {"/entry"};
  image.cmd = {"cmd1", "cmd2"};
  image.env = {"PATH=/image/bin", "A=image", "B=image"};
  image.working_dir = "/work";
  return image;
}

PodContext HostUsernsPod() {
  PodContext pod;
  pod.sandbox_id = "sb1";
  pod.pod_name = "web";
  pod.pod_namespace = "default";
  pod.pod_uid = "uid-1";
  pod.hostname = "web-host";
  pod.net_ns_path = "/run/psb/sb1/net";
  pod.ipc_ns_path = "/proc/42/ns/ipc";
  pod.uts_ns_path = "/proc/42/ns/uts";
  pod.cgroup_parent = "/kubepods/poduid-1";
  pod.hosts_path = "/var/lib/psb/sb1/hosts";
  pod.resolv_conf_path = "/var/lib/psb/sb1/resolv.conf";
  pod.hostname_path = "/var/lib/psb/sb1/hostname";
  pod.shm_path = "/run/psb/sb1/shm";
  return pod;
}

PodContext UsernsPod() {
  PodContext pod = HostUsernsPod();
  pod.user_ns_path = "/run/psb/sb1/user";
  pod.id_mappings =
      userns::IdMappings{{{0, 200000, 65536}}, {{0, 200000, 65536}}};
  return pod;
}

ContainerConfig Config() {
  ContainerConfig c;
  c.metadata.name = "app";
  c.image = "registry.local/busybox:1";
  return c;
}

class SpecTest : public ::testing::Test {
 protected:
  absl::StatusOr<json> Build(const ContainerConfig& c,
                             const PodContext& pod = HostUsernsPod(),
                             const HostFeatures& host = {}) {
    return BuildContainerSpec(sys_, "c1", c, Image(), pod, "/rootfs/c1",
                              ProcessUser{1000, 1001, {1001, 10}}, host);
  }
  json MountAt(const json& spec, const std::string& dest) {
    for (const json& m : spec["mounts"]) {
      if (m["destination"] == dest) return m;
    }
    return nullptr;
  }
  json Namespace(const json& spec, const std::string& type) {
    for (const json& n : spec["linux"]["namespaces"]) {
      if (n["type"] == type) return n;
    }
    return nullptr;
  }
  sys::RealSys sys_;
};

// The merge table kubelet relies on (Docker's rule).
TEST(ProcessArgsTest, MergeTable) {
  image::ImageConfig image = Image();
  ContainerConfig c;
  EXPECT_THAT(*ProcessArgs(c, image), ElementsAre("/entry", "cmd1", "cmd2"));
  c.args = {"a1"};
  EXPECT_THAT(*ProcessArgs(c, image), ElementsAre("/entry", "a1"));
  c.command = {"/bin/sh"};
  c.args = {};
  // command overrides Entrypoint and drops Cmd.
  EXPECT_THAT(*ProcessArgs(c, image), ElementsAre("/bin/sh"));
  c.args = {"-c", "x"};
  EXPECT_THAT(*ProcessArgs(c, image), ElementsAre("/bin/sh", "-c", "x"));
  image.entrypoint.clear();
  c.command.clear();
  c.args.clear();
  EXPECT_THAT(*ProcessArgs(c, image), ElementsAre("cmd1", "cmd2"));
  image.cmd.clear();
  EXPECT_THAT(ProcessArgs(c, image),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("config.command: no command")));
  c.args = {"only-args"};
  EXPECT_THAT(*ProcessArgs(c, image), ElementsAre("only-args"));
}

TEST(ProcessEnvTest, ConfigOverridesImageInPlaceAfterHostname) {
  ContainerConfig c;
  c.envs = {{"B", "config"}, {"C", "config"}, {"HOSTNAME", "mine"}};
  EXPECT_THAT(ProcessEnv(c, Image(), HostUsernsPod()),
              ElementsAre("HOSTNAME=mine", "PATH=/image/bin", "A=image",
                          "B=config", "C=config"));
  image::ImageConfig bare;
  EXPECT_THAT(ProcessEnv({}, bare, PodContext()),
              ElementsAre("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/"
                          "usr/bin:/sbin:/bin"));
}

TEST_F(SpecTest, ProcessFromImageConfigAndUser) {
  ASSERT_OK_AND_ASSIGN(json spec, Build(Config()));
  const json& p = spec["process"];
  EXPECT_EQ(p["args"], json({"/entry", "cmd1", "cmd2"}));
  EXPECT_EQ(p["cwd"], "/work");
  EXPECT_EQ(p["user"]["uid"], 1000);
  EXPECT_EQ(p["user"]["gid"], 1001);
  EXPECT_EQ(p["user"]["additionalGids"], json({1001, 10}));
  EXPECT_EQ(p["terminal"], false);
  EXPECT_EQ(p["noNewPrivileges"], false);
  EXPECT_EQ(p["capabilities"]["bounding"],
            json(ContainerCapabilities({}, false)));
  EXPECT_EQ(p["capabilities"]["inheritable"], json::array());
  ContainerConfig c = Config();
  c.working_dir = "/override";
  c.security.no_new_privs = true;
  c.resources.oom_score_adj = 500;
  ASSERT_OK_AND_ASSIGN(json spec2, Build(c));
  EXPECT_EQ(spec2["process"]["cwd"], "/override");
  EXPECT_EQ(spec2["process"]["noNewPrivileges"], true);
  EXPECT_EQ(spec2["process"]["oomScoreAdj"], 500);
  EXPECT_FALSE(spec2.contains("hostname"));  // the pod's UTS namespace
}

TEST_F(SpecTest, CapabilitiesAddDropAll) {
  ContainerConfig c = Config();
  c.security.capabilities = {{"NET_BIND_SERVICE"}, {"ALL"}};
  ASSERT_OK_AND_ASSIGN(json spec, Build(c));
  EXPECT_EQ(spec["process"]["capabilities"]["effective"],
            json({"CAP_NET_BIND_SERVICE"}));
  c.security.capabilities = {{"SYS_ADMIN"}, {}};
  ASSERT_OK_AND_ASSIGN(json spec2, Build(c));
  // CAP_SYS_ADMIN opens mount in the default seccomp profile too.
  bool mount_allowed = false;
  for (const json& rule : spec2["linux"]["seccomp"]["syscalls"]) {
    for (const json& n : rule["names"]) mount_allowed |= n == "mount";
  }
  EXPECT_TRUE(mount_allowed);
}

TEST_F(SpecTest, NamespacesByPathAndCgroupsPath) {
  ASSERT_OK_AND_ASSIGN(json spec, Build(Config()));
  EXPECT_EQ(Namespace(spec, "network")["path"], "/run/psb/sb1/net");
  EXPECT_EQ(Namespace(spec, "ipc")["path"], "/proc/42/ns/ipc");
  EXPECT_EQ(Namespace(spec, "uts")["path"], "/proc/42/ns/uts");
  EXPECT_FALSE(Namespace(spec, "pid").contains("path"));  // its own
  EXPECT_FALSE(Namespace(spec, "mount").is_null());
  EXPECT_FALSE(Namespace(spec, "cgroup").is_null());
  EXPECT_TRUE(Namespace(spec, "user").is_null());
  EXPECT_FALSE(spec["linux"].contains("uidMappings"));
  EXPECT_EQ(spec["linux"]["cgroupsPath"], "/kubepods/poduid-1/c1");

  PodContext pod = UsernsPod();
  pod.pid_mode = PidMode::kPod;
  pod.pid_ns_path = "/proc/42/ns/pid";
  ASSERT_OK_AND_ASSIGN(json u, Build(Config(), pod));
  EXPECT_EQ(Namespace(u, "pid")["path"], "/proc/42/ns/pid");
  EXPECT_EQ(Namespace(u, "user")["path"], "/run/psb/sb1/user");
  EXPECT_EQ(u["linux"]["uidMappings"],
            json::parse(R"([{"containerID":0,"hostID":200000,"size":65536}])"));
  EXPECT_EQ(u["linux"]["gidMappings"], u["linux"]["uidMappings"]);

  pod.pid_mode = PidMode::kHost;
  pod.net_ns_path.clear();  // host network
  ASSERT_OK_AND_ASSIGN(json h, Build(Config(), pod));
  EXPECT_TRUE(Namespace(h, "pid").is_null());
  EXPECT_TRUE(Namespace(h, "network").is_null());
  // userns + host network: the host's /sys, read-only bind (see oci/spec).
  EXPECT_EQ(MountAt(h, "/sys")["type"], "bind");

  pod.pid_mode = PidMode::kPod;
  pod.pid_ns_path.clear();
  EXPECT_THAT(Build(Config(), pod),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(SpecTest, PodFilesShmAndConfigMounts) {
  sys::TempDir dir;
  ContainerConfig c = Config();
  c.mounts = {
      {"/data/sub", dir.path(), true, true, MountPropagation::kPrivate},
      {"/data", dir.path(), false, false, MountPropagation::kHostToContainer},
      {"/shared", dir.path(), false, false, MountPropagation::kBidirectional},
  };
  ASSERT_OK_AND_ASSIGN(json spec, Build(c));
  EXPECT_EQ(MountAt(spec, "/etc/hosts")["source"], "/var/lib/psb/sb1/hosts");
  EXPECT_EQ(MountAt(spec, "/etc/resolv.conf")["options"],
            json({"rbind", "rprivate", "rw"}));
  EXPECT_EQ(MountAt(spec, "/etc/hostname")["type"], "bind");
  EXPECT_EQ(MountAt(spec, "/dev/shm")["source"], "/run/psb/sb1/shm");
  EXPECT_EQ(MountAt(spec, "/dev/shm")["type"], "bind");
  EXPECT_EQ(MountAt(spec, "/sys/fs/cgroup")["options"].back(), "ro");
  EXPECT_EQ(MountAt(spec, "/data")["options"], json({"rbind", "rslave", "rw"}));
  EXPECT_EQ(MountAt(spec, "/data/sub")["options"],
            json({"rbind", "rprivate", "ro", "rro"}));
  EXPECT_EQ(MountAt(spec, "/shared")["options"][1], "rshared");
  // A Bidirectional mount needs the rootfs rshared to send mounts back.
  EXPECT_EQ(spec["linux"]["rootfsPropagation"], "rshared");
  // Parents first: /data before /data/sub.
  std::vector<std::string> order;
  for (const json& m : spec["mounts"]) order.push_back(m["destination"]);
  EXPECT_LT(std::find(order.begin(), order.end(), "/data"),
            std::find(order.begin(), order.end(), "/data/sub"));
  EXPECT_LT(std::find(order.begin(), order.end(), "/dev"),
            std::find(order.begin(), order.end(), "/dev/shm"));

  // A config mount at /etc/hosts replaces the pod's file.
  c.mounts = {
      {"/etc/hosts", dir.path(), true, false, MountPropagation::kPrivate}};
  ASSERT_OK_AND_ASSIGN(json spec2, Build(c));
  EXPECT_EQ(MountAt(spec2, "/etc/hosts")["source"], dir.path());
  EXPECT_FALSE(spec2["linux"].contains("rootfsPropagation"));
  c.mounts[0].propagation = MountPropagation::kHostToContainer;
  ASSERT_OK_AND_ASSIGN(spec2, Build(c));
  EXPECT_EQ(spec2["linux"]["rootfsPropagation"], "rslave");

  // Host IPC: the host's /dev/shm, not the pod's.
  PodContext host_ipc = HostUsernsPod();
  host_ipc.ipc_ns_path.clear();
  ASSERT_OK_AND_ASSIGN(json spec3, Build(Config(), host_ipc));
  EXPECT_EQ(MountAt(spec3, "/dev/shm")["source"], "/dev/shm");
  EXPECT_TRUE(Namespace(spec3, "ipc").is_null());
}

TEST_F(SpecTest, ReadonlyRootfs) {
  ContainerConfig c = Config();
  ASSERT_OK_AND_ASSIGN(json rw, Build(c));
  EXPECT_EQ(rw["root"],
            json::parse(R"({"path":"/rootfs/c1","readonly":false})"));
  c.security.readonly_rootfs = true;
  ASSERT_OK_AND_ASSIGN(json ro, Build(c));
  EXPECT_EQ(ro["root"]["readonly"], true);
  EXPECT_EQ(MountAt(ro, "/etc/hosts")["options"].back(), "ro");
}

TEST_F(SpecTest, MaskedPathsDefaultsUnmaskedAndExplicit) {
  ASSERT_OK_AND_ASSIGN(json host, Build(Config()));
  EXPECT_EQ(host["linux"]["maskedPaths"], json(KubernetesMaskedPaths()));
  EXPECT_THAT(host["linux"]["maskedPaths"].get<std::vector<std::string>>(),
              ::testing::Contains("/sys/devices/virtual/powercap"));
  EXPECT_EQ(host["linux"]["readonlyPaths"], json(oci::DefaultReadonlyPaths()));
  // Empty lists in a user-namespaced pod: procMount Unmasked.
  ASSERT_OK_AND_ASSIGN(json unmasked, Build(Config(), UsernsPod()));
  EXPECT_EQ(unmasked["linux"]["maskedPaths"], json::array());
  EXPECT_EQ(unmasked["linux"]["readonlyPaths"], json::array());
  // Lists given (kubelet's procMount Default): taken as they are.
  ContainerConfig c = Config();
  c.security.masked_paths = {"/proc/kcore"};
  c.security.readonly_paths = {"/proc/sys"};
  ASSERT_OK_AND_ASSIGN(json given, Build(c, UsernsPod()));
  EXPECT_EQ(given["linux"]["maskedPaths"], json({"/proc/kcore"}));
  EXPECT_EQ(given["linux"]["readonlyPaths"], json({"/proc/sys"}));
}

TEST_F(SpecTest, SeccompVariants) {
  ContainerConfig c = Config();
  ASSERT_OK_AND_ASSIGN(json def, Build(c));
  EXPECT_EQ(def["linux"]["seccomp"]["defaultAction"], "SCMP_ACT_ERRNO");
  c.security.seccomp = {ProfileType::kUnconfined, ""};
  ASSERT_OK_AND_ASSIGN(json unconfined, Build(c));
  EXPECT_FALSE(unconfined["linux"].contains("seccomp"));
  sys::TempDir dir;
  std::string path = dir.Sub("profile.json");
  std::ofstream(path) << R"({"defaultAction":"SCMP_ACT_LOG"})";
  c.security.seccomp = {ProfileType::kLocalhost, path};
  ASSERT_OK_AND_ASSIGN(json local, Build(c));
  EXPECT_EQ(local["linux"]["seccomp"]["defaultAction"], "SCMP_ACT_LOG");
  c.security.seccomp = {ProfileType::kLocalhost, dir.Sub("missing.json")};
  EXPECT_THAT(Build(c), StatusIs(absl::StatusCode::kInvalidArgument,
                                 HasSubstr("seccomp.localhost_ref")));
}

TEST_F(SpecTest, PrivilegedInHostUserNamespaceGetsHostDevices) {
  ContainerConfig c = Config();
  c.security.privileged = true;
  c.security.no_new_privs = true;
  PodContext pod = HostUsernsPod();
  pod.privileged = true;
  ASSERT_OK_AND_ASSIGN(json spec, Build(c, pod));
  EXPECT_EQ(spec["process"]["capabilities"]["bounding"],
            json(AllCapabilities()));
  EXPECT_EQ(spec["process"]["noNewPrivileges"], false);
  EXPECT_FALSE(spec["linux"].contains("seccomp"));
  EXPECT_EQ(spec["linux"]["maskedPaths"], json::array());
  EXPECT_EQ(spec["linux"]["readonlyPaths"], json::array());
  EXPECT_EQ(spec["linux"]["resources"]["devices"],
            json::parse(R"([{"allow":true,"access":"rwm"}])"));
  bool has_null = false;
  for (const json& d : spec["linux"]["devices"]) {
    has_null |= d["path"] == "/dev/null";
  }
  EXPECT_TRUE(has_null);
  EXPECT_EQ(MountAt(spec, "/sys")["options"].back(), "rw");
  EXPECT_EQ(MountAt(spec, "/sys/fs/cgroup")["options"].back(), "rw");
}

// On a host whose bounding set lacks a capability, privileged means what
// the daemon holds: asking runc for more fails the container's start.
TEST_F(SpecTest, PrivilegedGetsTheCapabilitiesTheDaemonHolds) {
  ContainerConfig c = Config();
  c.security.privileged = true;
  PodContext pod = HostUsernsPod();
  pod.privileged = true;
  HostFeatures host;
  host.held_capabilities = {"CAP_CHOWN", "CAP_SYS_ADMIN"};
  ASSERT_OK_AND_ASSIGN(json spec, Build(c, pod, host));
  for (const char* set : {"bounding", "effective", "permitted"}) {
    EXPECT_EQ(spec["process"]["capabilities"][set],
              json::parse(R"(["CAP_CHOWN","CAP_SYS_ADMIN"])"))
        << set;
  }
  c.security.privileged = false;
  c.security.capabilities.add = {"ALL"};
  ASSERT_OK_AND_ASSIGN(spec, Build(c, pod, host));
  EXPECT_EQ(spec["process"]["capabilities"]["bounding"],
            json::parse(R"(["CAP_CHOWN","CAP_SYS_ADMIN"])"));
}

TEST_F(SpecTest, PrivilegedInPodUserNamespaceGetsNoHostDevice) {
  ContainerConfig c = Config();
  c.security.privileged = true;
  PodContext pod = UsernsPod();
  pod.privileged = true;
  ASSERT_OK_AND_ASSIGN(json spec, Build(c, pod));
  EXPECT_EQ(spec["process"]["capabilities"]["bounding"],
            json(AllCapabilities()));
  EXPECT_FALSE(spec["linux"].contains("seccomp"));
  EXPECT_EQ(spec["linux"]["maskedPaths"], json::array());
  EXPECT_FALSE(spec["linux"].contains("devices"));
  EXPECT_EQ(spec["linux"]["resources"]["devices"],
            json::parse(R"([{"allow":false,"access":"rwm"}])"));
  EXPECT_EQ(MountAt(spec, "/sys")["options"].back(), "rw");
}

TEST_F(SpecTest, ConfigDevicesAndResources) {
  ContainerConfig c = Config();
  c.devices = {{"/dev/xnull", "/dev/null", "rw"}};
  c.resources = {100000, 50000, 512, 64 << 20, 128 << 20, 0, "0-1", "0"};
  ASSERT_OK_AND_ASSIGN(json spec, Build(c));
  EXPECT_EQ(spec["linux"]["devices"][0]["path"], "/dev/xnull");
  EXPECT_EQ(spec["linux"]["devices"][0]["type"], "c");
  EXPECT_EQ(spec["linux"]["devices"][0]["major"], 1);
  EXPECT_EQ(spec["linux"]["devices"][0]["minor"], 3);
  const json& r = spec["linux"]["resources"];
  EXPECT_EQ(r["devices"][1], json::parse(R"({"allow":true,"type":"c",
      "major":1,"minor":3,"access":"rw"})"));
  EXPECT_EQ(r["cpu"], json::parse(R"({"shares":512,"quota":50000,
      "period":100000,"cpus":"0-1","mems":"0"})"));
  EXPECT_EQ(r["memory"], json::parse(R"({"limit":67108864,
      "swap":134217728})"));
  c.devices = {{"/dev/gone", "/dev/does-not-exist", "r"}};
  EXPECT_THAT(Build(c), StatusIs(absl::StatusCode::kInvalidArgument,
                                 HasSubstr("config.devices[0].host_path")));
}

TEST_F(SpecTest, AppArmor) {
  ContainerConfig c = Config();
  ASSERT_OK_AND_ASSIGN(json none, Build(c));
  EXPECT_FALSE(none["process"].contains("apparmorProfile"));
  HostFeatures host{true, "psb-default"};
  ASSERT_OK_AND_ASSIGN(json def, Build(c, HostUsernsPod(), host));
  EXPECT_EQ(def["process"]["apparmorProfile"], "psb-default");
  c.security.apparmor =
      SecurityProfile{ProfileType::kLocalhost, "localhost/my-profile"};
  ASSERT_OK_AND_ASSIGN(json local, Build(c, HostUsernsPod(), host));
  EXPECT_EQ(local["process"]["apparmorProfile"], "my-profile");
  EXPECT_THAT(Build(c), StatusIs(absl::StatusCode::kFailedPrecondition,
                                 HasSubstr("AppArmor is not enabled")));
  c.security.apparmor = SecurityProfile{ProfileType::kUnconfined, ""};
  ASSERT_OK_AND_ASSIGN(json unconfined, Build(c, HostUsernsPod(), host));
  EXPECT_FALSE(unconfined["process"].contains("apparmorProfile"));
}

TEST_F(SpecTest, AnnotationsNameTheContainerAndPod) {
  ContainerConfig c = Config();
  c.annotations = {{"x", "y"}, {"io.kubernetes.cri.container-type", "fake"}};
  ASSERT_OK_AND_ASSIGN(json spec, Build(c));
  const json& a = spec["annotations"];
  EXPECT_EQ(a["x"], "y");
  EXPECT_EQ(a["io.kubernetes.cri.container-type"], "container");
  EXPECT_EQ(a["io.kubernetes.cri.container-name"], "app");
  EXPECT_EQ(a["io.kubernetes.cri.sandbox-id"], "sb1");
  EXPECT_EQ(a["io.kubernetes.cri.sandbox-name"], "web");
  EXPECT_EQ(a["io.kubernetes.cri.sandbox-namespace"], "default");
  EXPECT_EQ(a["io.kubernetes.cri.sandbox-uid"], "uid-1");
  EXPECT_EQ(a["io.kubernetes.cri.image-name"], "registry.local/busybox:1");
}

TEST_F(SpecTest, UserIdsMustBeMappedInAUserNamespacedPod) {
  for (ProcessUser user :
       {ProcessUser{70000, 0, {0}}, ProcessUser{0, 70000, {}},
        ProcessUser{0, 0, {0, 70000}}}) {
    EXPECT_THAT(BuildContainerSpec(sys_, "c1", Config(), Image(), UsernsPod(),
                                   "/rootfs/c1", user),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr("70000 (from the security context or the "
                                   "image's User) is not mapped")));
    // The host's user namespace maps everything.
    EXPECT_OK(BuildContainerSpec(sys_, "c1", Config(), Image(), HostUsernsPod(),
                                 "/rootfs/c1", user)
                  .status());
  }
}

TEST_F(SpecTest, RelativeRootfsIsRefused) {
  EXPECT_THAT(BuildContainerSpec(sys_, "c1", Config(), Image(), HostUsernsPod(),
                                 "rootfs", {}),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace podsandbox::container
