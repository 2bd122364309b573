#include "sandbox/validation.h"

#include <functional>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sys/testing/status_matchers.h"

namespace podsandbox::sandbox {
namespace {

using ::podsandbox::sys::testing::StatusIs;
using ::testing::HasSubstr;

PodConfig ValidConfig() {
  PodConfig config;
  config.metadata = {"web", "uid-1", "default", 0};
  config.hostname = "web-0";
  config.dns.servers = {"10.96.0.10", "fd00::a"};
  config.port_mappings = {{Protocol::kTcp, 80, 8080, "127.0.0.1"}};
  config.sysctls = {{"net.ipv4.ip_unprivileged_port_start", "0"},
                    {"kernel/shmmax", "1024"}};
  config.namespaces.userns.mode = NamespaceMode::kPod;
  config.namespaces.userns.mappings = {{{0, 100000, 65536}},
                                       {{0, 100000, 65536}}};
  return config;
}

TEST(ValidatePodConfigTest, AcceptsAValidConfig) {
  EXPECT_OK(ValidatePodConfig(ValidConfig(), {}));
}

TEST(ValidatePodConfigTest, AcceptsAPlainPodWithoutUserNamespace) {
  PodConfig config = ValidConfig();
  config.namespaces.userns = {};
  EXPECT_OK(ValidatePodConfig(config, {}));
}

struct BadCase {
  std::string name;
  std::function<void(PodConfig&)> mutate;
  std::string field;  // must appear in the message
};

class BadConfigTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadConfigTest, IsRefusedNamingTheField) {
  PodConfig config = ValidConfig();
  GetParam().mutate(config);
  EXPECT_THAT(ValidatePodConfig(config, {}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr(GetParam().field)));
}

const char kUserns[] =
    "config.linux.security_context.namespace_options.userns_options";

INSTANTIATE_TEST_SUITE_P(
    Rules, BadConfigTest,
    ::testing::ValuesIn(std::vector<BadCase>{
        {"EmptyName", [](PodConfig& c) { c.metadata.name = ""; },
         "config.metadata.name: must not be empty"},
        {"EmptyNamespace", [](PodConfig& c) { c.metadata.namespace_ = ""; },
         "config.metadata.namespace: must not be empty"},
        {"EmptyUid", [](PodConfig& c) { c.metadata.uid = ""; },
         "config.metadata.uid: must not be empty"},
        {"LongHostname",
         [](PodConfig& c) { c.hostname = std::string(64, 'a'); },
         "config.hostname: is 64 characters"},
        {"HostnameWithDot", [](PodConfig& c) { c.hostname = "a.b"; },
         "config.hostname"},
        {"HostnameUpperCase", [](PodConfig& c) { c.hostname = "Web"; },
         "config.hostname"},
        {"HostnameLeadingDash", [](PodConfig& c) { c.hostname = "-web"; },
         "config.hostname: must not start or end"},
        {"DnsServerNotIp",
         [](PodConfig& c) { c.dns.servers.push_back("dns.example"); },
         "config.dns_config.servers[2]"},
        {"DnsSearchNewline",
         [](PodConfig& c) { c.dns.searches = {"a\nnameserver 1.1.1.1"}; },
         "config.dns_config.searches[0]"},
        {"UnknownProtocol",
         [](PodConfig& c) {
           c.port_mappings[0].protocol = static_cast<Protocol>(7);
         },
         "config.port_mappings[0].protocol"},
        {"ContainerPortUnset",
         [](PodConfig& c) { c.port_mappings[0].container_port = 0; },
         "config.port_mappings[0].container_port"},
        {"ContainerPortTooBig",
         [](PodConfig& c) { c.port_mappings[0].container_port = 65536; },
         "config.port_mappings[0].container_port"},
        {"HostPortNegative",
         [](PodConfig& c) { c.port_mappings[0].host_port = -1; },
         "config.port_mappings[0].host_port"},
        {"HostIpNotIp",
         [](PodConfig& c) { c.port_mappings[0].host_ip = "localhost"; },
         "config.port_mappings[0].host_ip"},
        {"SysctlDotDot", [](PodConfig& c) { c.sysctls["net..ipv4"] = "1"; },
         "config.linux.sysctls[\"net..ipv4\"]"},
        {"SysctlTraversal",
         [](PodConfig& c) { c.sysctls["net/../../kernel/core_pattern"] = "1"; },
         "name must be"},
        {"SysctlUpperCase", [](PodConfig& c) { c.sysctls["net.IPv4"] = "1"; },
         "name must be"},
        {"SysctlValueNewline",
         [](PodConfig& c) { c.sysctls["net.ipv4.ip_forward"] = "1\n2"; },
         "value must not contain a newline"},
        // cr8escape: a non-namespaced sysctl would be written on the host.
        {"SysctlNotNamespaced",
         [](PodConfig& c) { c.sysctls["kernel.core_pattern"] = "|/x"; },
         "not a namespaced sysctl"},
        {"NetSysctlWithHostNetwork",
         [](PodConfig& c) {
           c.namespaces.network = NamespaceMode::kNode;
           c.sysctls.erase("kernel/shmmax");
         },
         "net.* sysctls need the pod's own network namespace"},
        {"IpcSysctlWithHostIpc",
         [](PodConfig& c) { c.namespaces.ipc = NamespaceMode::kNode; },
         "IPC sysctls need the pod's own IPC namespace"},
        {"NetworkContainer",
         [](PodConfig& c) { c.namespaces.network = NamespaceMode::kContainer; },
         "namespace_options.network"},
        {"IpcTarget",
         [](PodConfig& c) { c.namespaces.ipc = NamespaceMode::kTarget; },
         "namespace_options.ipc"},
        {"PidTarget",
         [](PodConfig& c) { c.namespaces.pid = NamespaceMode::kTarget; },
         "namespace_options.pid"},
        {"UsernsContainerMode",
         [](PodConfig& c) {
           c.namespaces.userns.mode = NamespaceMode::kContainer;
         },
         std::string(kUserns) + ".mode"},
        {"UsernsTargetMode",
         [](PodConfig& c) {
           c.namespaces.userns.mode = NamespaceMode::kTarget;
         },
         std::string(kUserns) + ".mode"},
        {"UsernsNodeWithMappings",
         [](PodConfig& c) { c.namespaces.userns.mode = NamespaceMode::kNode; },
         "mode NODE"},
        {"UsernsPodWithoutMappings",
         [](PodConfig& c) { c.namespaces.userns.mappings = {}; },
         std::string(kUserns) + ".uids"},
        {"UsernsZeroLength",
         [](PodConfig& c) { c.namespaces.userns.mappings.gids[0].length = 0; },
         std::string(kUserns) + ".gids[0].length"},
        // Metadata: any printable ASCII (critest's names have capitals),
        // but nothing that splits CNI_ARGS (';' '=') or ends it (NUL), no
        // space (the reservation key's separator), no control characters.
        {"NameSemicolon",
         [](PodConfig& c) { c.metadata.name = "a;K8S_POD_NAME=b"; },
         "config.metadata.name: byte 0x3b at 1"},
        {"NameSpace", [](PodConfig& c) { c.metadata.name = "a b"; },
         "config.metadata.name: byte 0x20 at 1"},
        {"NameNewline", [](PodConfig& c) { c.metadata.name = "a\nb"; },
         "config.metadata.name: byte 0x0a at 1"},
        {"NameNul",
         [](PodConfig& c) { c.metadata.name = std::string("a\0b", 3); },
         "config.metadata.name: byte 0x00 at 1"},
        {"NameNonAscii", [](PodConfig& c) { c.metadata.name = "caf\xc3\xa9"; },
         "config.metadata.name: byte 0xc3 at 3"},
        {"NameEmpty", [](PodConfig& c) { c.metadata.name = ""; },
         "config.metadata.name: must not be empty"},
        {"NameTooLong",
         [](PodConfig& c) { c.metadata.name = std::string(254, 'a'); },
         "config.metadata.name: is 254 bytes; at most 253"},
        {"NamespaceTooLong",
         [](PodConfig& c) { c.metadata.namespace_ = std::string(64, 'a'); },
         "config.metadata.namespace: is 64 bytes; at most 63"},
        {"NamespaceEquals",
         [](PodConfig& c) { c.metadata.namespace_ = "a=b"; },
         "config.metadata.namespace: byte 0x3d at 1"},
        {"UidSemicolon", [](PodConfig& c) { c.metadata.uid = "u;x=y"; },
         "config.metadata.uid: byte 0x3b at 1"},
        {"UidEquals", [](PodConfig& c) { c.metadata.uid = "u=1"; },
         "config.metadata.uid: byte 0x3d at 1"},
        {"UidNul",
         [](PodConfig& c) { c.metadata.uid = std::string("u\0", 2); },
         "config.metadata.uid: byte 0x00 at 1"},
        {"UidNewline", [](PodConfig& c) { c.metadata.uid = "u\n"; },
         "config.metadata.uid: byte 0x0a at 1"},
        {"UidSpace", [](PodConfig& c) { c.metadata.uid = "u v"; },
         "config.metadata.uid: byte 0x20 at 1"},
        {"UidTooLong",
         [](PodConfig& c) { c.metadata.uid = std::string(254, 'u'); },
         "config.metadata.uid: is 254 bytes; at most 253"},
        // Paths.
        {"LogDirectoryRelative",
         [](PodConfig& c) { c.log_directory = "var/log/pods/x"; },
         "config.log_directory: must be an absolute path"},
        {"LogDirectoryDotDot",
         [](PodConfig& c) { c.log_directory = "/var/log/../../etc"; },
         "config.log_directory: must be clean"},
        {"LogDirectoryDoubleSlash",
         [](PodConfig& c) { c.log_directory = "/var//log"; },
         "config.log_directory: must be clean"},
        {"LogDirectoryTrailingSlash",
         [](PodConfig& c) { c.log_directory = "/var/log/"; },
         "config.log_directory: must be clean"},
        {"LogDirectoryDot",
         [](PodConfig& c) { c.log_directory = "/var/./log"; },
         "config.log_directory: must be clean"},
        {"LogDirectoryNewline",
         [](PodConfig& c) { c.log_directory = "/var/log\n"; },
         "config.log_directory: must not contain a control character"},
        {"CgroupParentRelative",
         [](PodConfig& c) { c.cgroup_parent = "kubepods"; },
         "config.linux.cgroup_parent: must be an absolute path"},
        {"CgroupParentDotDot",
         [](PodConfig& c) { c.cgroup_parent = "/kubepods/../.."; },
         "config.linux.cgroup_parent: must be clean"},
        {"CgroupParentTrailingSlash",
         [](PodConfig& c) { c.cgroup_parent = "/kubepods/"; },
         "config.linux.cgroup_parent: must be clean"},
        // DNS entries are words of resolv.conf lines.
        {"DnsSearchSpace",
         [](PodConfig& c) { c.dns.searches = {"a.local nameserver"}; },
         "config.dns_config.searches[0]: must not contain whitespace"},
        {"DnsSearchTab", [](PodConfig& c) { c.dns.searches = {"a\tb"}; },
         "config.dns_config.searches[0]: must not contain whitespace"},
        {"DnsOptionNewline",
         [](PodConfig& c) { c.dns.options = {"ndots:5", "x\nnameserver 1"}; },
         "config.dns_config.options[1]: must not contain whitespace"},
        {"DnsOptionControl", [](PodConfig& c) { c.dns.options = {"a\x01"}; },
         "config.dns_config.options[0]"},
        // Sysctl values.
        {"SysctlValueControl",
         [](PodConfig& c) { c.sysctls["net.ipv4.ip_forward"] = "1\x7f"; },
         "value must not contain a newline or other control character"},
        {"SysctlValueTooLong",
         [](PodConfig& c) {
           c.sysctls["net.ipv4.ip_forward"] = std::string(4097, '1');
         },
         "value is 4097 bytes; at most 4096"},
        // User namespace maps runc would refuse after side effects.
        {"UsernsNoContainerRoot",
         [](PodConfig& c) {
           c.namespaces.userns.mappings.uids[0].container_id = 1;
           c.namespaces.userns.mappings.gids[0].container_id = 1;
         },
         std::string(kUserns) + ".uids: must map container id 0"},
        {"UsernsTextPastOneWrite",
         [](PodConfig& c) {
           std::vector<userns::IdMapping> list = {{0, 1000000000, 1}};
           for (uint32_t i = 1; i < 300; ++i) {
             list.push_back({1000000000 + i, 1000000000 + i, 1});
           }
           c.namespaces.userns.mappings = {list, list};
         },
         std::string(kUserns) + ".uids: is "},
        {"UsernsGidsDiffer",
         [](PodConfig& c) {
           c.namespaces.userns.mappings.gids[0].host_id = 300000;
         },
         std::string(kUserns) + ".gids: must equal uids"},
        {"UsernsHostRoot",
         [](PodConfig& c) { c.namespaces.userns.mappings.uids[0].host_id = 0; },
         std::string(kUserns) + ".uids[0]"},
    }),
    [](const ::testing::TestParamInfo<BadCase>& info) {
      return info.param.name;
    });

TEST(ValidatePodConfigTest, AcceptsWhatKubeletSends) {
  PodConfig config = ValidConfig();
  config.metadata = {"coredns-5d78c9869d-x7k2p.v1",
                     "0b9f4c1e-7a3d-4f2b-9c8e-1d2e3f4a5b6c", "kube-system", 3};
  config.log_directory =
      "/var/log/pods/kube-system_coredns_0b9f4c1e-7a3d-4f2b-9c8e-1d2e3f4a5b6c";
  config.cgroup_parent = "/kubepods/burstable/pod0b9f4c1e";
  config.dns.searches = {"kube-system.svc.cluster.local", "svc.cluster.local"};
  config.dns.options = {"ndots:5", "timeout:2"};
  config.sysctls["net.ipv4.ip_local_port_range"] = "1024 65000";
  config.labels = {{"io.kubernetes.pod.name", "coredns"}};
  EXPECT_OK(ValidatePodConfig(config, {}));
  config.metadata.uid = "a0:f1/Hash+Static_Pod.~";  // printable is enough
  EXPECT_OK(ValidatePodConfig(config, {}));
}

TEST(ValidatePodConfigTest, CgroupParentMustBeUnderTheConfiguredPrefix) {
  PodConfig config = ValidConfig();
  PodLimits limits;
  limits.cgroup_parent_prefix = "/kubepods";
  for (const char* ok : {"/kubepods", "/kubepods/besteffort/pod1"}) {
    config.cgroup_parent = ok;
    EXPECT_OK(ValidatePodConfig(config, {}, limits)) << ok;
  }
  for (const char* bad : {"/", "/kubepods-other", "/system.slice"}) {
    config.cgroup_parent = bad;
    EXPECT_THAT(ValidatePodConfig(config, {}, limits),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr("config.linux.cgroup_parent: must be "
                                   "/kubepods or below it")))
        << bad;
  }
}

TEST(ValidatePodConfigTest, DifferentGidsAllowedByPolicy) {
  PodConfig config = ValidConfig();
  config.namespaces.userns.mappings.gids[0].host_id = 300000;
  userns::MappingPolicy policy;
  policy.allow_different_uid_gid_maps = true;
  EXPECT_OK(ValidatePodConfig(config, policy));
}

// Each limit: at the limit is accepted, one past it is refused naming the
// field. Small limits stand in for the (large) defaults.
TEST(ValidatePodConfigTest, SizeLimits) {
  PodLimits limits;
  limits.max_label_annotation_bytes = 10;
  limits.max_port_mappings = 2;
  limits.max_sysctls = 2;  // ValidConfig has 2
  limits.max_dns_entries = 3;
  PodConfig config = ValidConfig();
  config.labels = {{"ab", "cd"}};
  config.annotations = {{"ef", "gh"}, {"i", "j"}};  // 10 bytes in all
  config.port_mappings.push_back({Protocol::kUdp, 53, 0, ""});
  config.dns.searches = {"cluster.local"};  // with 2 servers: 3
  ASSERT_OK(ValidatePodConfig(config, {}, limits));

  struct Past {
    const char* field;
    std::function<void(PodConfig&)> grow;
  };
  for (const Past& past : std::vector<Past>{
           {"config.labels, config.annotations: are 11 bytes together; at "
            "most 10",
            [](PodConfig& c) { c.labels["k"] = ""; }},
           {"config.port_mappings: has 3 entries; at most 2",
            [](PodConfig& c) {
              c.port_mappings.push_back({Protocol::kTcp, 81, 0, ""});
            }},
           {"config.linux.sysctls: has 3 entries; at most 2",
            [](PodConfig& c) { c.sysctls["kernel.msgmax"] = "1"; }},
           {"config.dns_config: has 4 servers, searches and options; at most 3",
            [](PodConfig& c) { c.dns.options = {"ndots:1"}; }},
       }) {
    PodConfig grown = config;
    past.grow(grown);
    EXPECT_THAT(
        ValidatePodConfig(grown, {}, limits),
        StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(past.field)));
  }
}

TEST(UncleanPathReasonTest, AcceptsCleanAbsolutePaths) {
  for (const char* path : {"/", "/a", "/a/b.c/d", "/a/..b/c.", "/var/log/x"}) {
    EXPECT_EQ(UncleanPathReason(path), "") << path;
  }
  for (const char* path :
       {"", "a", "//", "/a/", "/a//b", "/.", "/a/..", "/a/./b", "/a\nb"}) {
    EXPECT_NE(UncleanPathReason(path), "") << path;
  }
}

TEST(ValidateSysctlTest, AcceptsSlashSeparatorsAndIpcNames) {
  NamespaceOptions pod;
  for (const char* name : {"net/ipv4/ip_forward", "kernel.msgmax", "kernel.sem",
                           "fs.mqueue.msg_max", "kernel.shm_rmid_forced"}) {
    EXPECT_OK(ValidateSysctl(name, "1", pod)) << name;
  }
}

TEST(ValidateSysctlTest, CanonicalNameUsesDots) {
  EXPECT_EQ(CanonicalSysctlName("net/ipv4/ip_forward"), "net.ipv4.ip_forward");
}

}  // namespace
}  // namespace podsandbox::sandbox
