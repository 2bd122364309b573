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
        {"UsernsHostRoot",
         [](PodConfig& c) { c.namespaces.userns.mappings.uids[0].host_id = 0; },
         std::string(kUserns) + ".uids[0]"},
    }),
    [](const ::testing::TestParamInfo<BadCase>& info) {
      return info.param.name;
    });

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
