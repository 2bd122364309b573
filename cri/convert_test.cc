#include "cri/convert.h"

#include "absl/time/time.h"
#include "cri/api.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "sandbox/controller.h"
#include "sandbox/pod_config.h"
#include "sys/testing/status_matchers.h"

namespace podsandbox::cri {
namespace {

namespace v1 = ::runtime::v1;
using ::podsandbox::sys::testing::IsOk;
using ::podsandbox::sys::testing::StatusIs;
using ::testing::HasSubstr;

// A crictl-style pod file: the original field names, as JSON.
constexpr char kUsernsPodJson[] = R"json({
  "metadata": {"name": "web", "uid": "u-1", "namespace": "default",
               "attempt": 2},
  "hostname": "web-host",
  "log_directory": "/var/log/pods/web",
  "dns_config": {"servers": ["10.0.0.10"], "searches": ["svc.local"],
                 "options": ["ndots:5"]},
  "port_mappings": [{"protocol": "UDP", "container_port": 53,
                     "host_port": 5353, "host_ip": "127.0.0.1"}],
  "labels": {"app": "web"},
  "annotations": {"note": "x"},
  "linux": {
    "cgroup_parent": "/psb",
    "sysctls": {"net.ipv4.ip_unprivileged_port_start": "0"},
    "security_context": {
      "privileged": false,
      "namespace_options": {
        "network": "POD", "pid": "CONTAINER", "ipc": "POD",
        "userns_options": {
          "mode": "POD",
          "uids": [{"host_id": 100000, "container_id": 0, "length": 65536}],
          "gids": [{"host_id": 100000, "container_id": 0, "length": 65536}]
        }
      }
    }
  }
})json";

v1::PodSandboxConfig Parse(const char* json) {
  v1::PodSandboxConfig config;
  auto status = google::protobuf::util::JsonStringToMessage(json, &config);
  EXPECT_TRUE(status.ok()) << status.ToString();
  return config;
}

TEST(ConvertTest, ConfigFromCriCarriesEveryField) {
  ASSERT_OK_AND_ASSIGN(sandbox::PodConfig config,
                       FromCri(Parse(kUsernsPodJson)));
  EXPECT_EQ(config.metadata.name, "web");
  EXPECT_EQ(config.metadata.uid, "u-1");
  EXPECT_EQ(config.metadata.namespace_, "default");
  EXPECT_EQ(config.metadata.attempt, 2u);
  EXPECT_EQ(config.hostname, "web-host");
  EXPECT_EQ(config.log_directory, "/var/log/pods/web");
  EXPECT_THAT(config.dns.servers, ::testing::ElementsAre("10.0.0.10"));
  EXPECT_THAT(config.dns.searches, ::testing::ElementsAre("svc.local"));
  EXPECT_THAT(config.dns.options, ::testing::ElementsAre("ndots:5"));
  ASSERT_EQ(config.port_mappings.size(), 1u);
  EXPECT_EQ(config.port_mappings[0].protocol, sandbox::Protocol::kUdp);
  EXPECT_EQ(config.port_mappings[0].container_port, 53);
  EXPECT_EQ(config.port_mappings[0].host_port, 5353);
  EXPECT_EQ(config.port_mappings[0].host_ip, "127.0.0.1");
  EXPECT_EQ(config.labels.at("app"), "web");
  EXPECT_EQ(config.annotations.at("note"), "x");
  EXPECT_EQ(config.cgroup_parent, "/psb");
  EXPECT_EQ(config.sysctls.at("net.ipv4.ip_unprivileged_port_start"), "0");
  EXPECT_EQ(config.namespaces.network, sandbox::NamespaceMode::kPod);
  EXPECT_EQ(config.namespaces.pid, sandbox::NamespaceMode::kContainer);
  EXPECT_EQ(config.namespaces.ipc, sandbox::NamespaceMode::kPod);
  EXPECT_TRUE(config.user_namespaced());
  const userns::IdMapping expected{0, 100000, 65536};
  EXPECT_THAT(config.namespaces.userns.mappings.uids,
              ::testing::ElementsAre(expected));
  EXPECT_THAT(config.namespaces.userns.mappings.gids,
              ::testing::ElementsAre(expected));
}

TEST(ConvertTest, RoundTripIsLossless) {
  ASSERT_OK_AND_ASSIGN(sandbox::PodConfig config,
                       FromCri(Parse(kUsernsPodJson)));
  ASSERT_OK_AND_ASSIGN(sandbox::PodConfig again, FromCri(ToCri(config)));
  EXPECT_TRUE(again == config);
}

TEST(ConvertTest, MissingUsernsOptionsMeansHostUserNamespace) {
  ASSERT_OK_AND_ASSIGN(sandbox::PodConfig config,
                       FromCri(Parse(R"({"metadata": {"name": "a"}})")));
  EXPECT_EQ(config.namespaces.userns.mode, sandbox::NamespaceMode::kNode);
  EXPECT_FALSE(config.user_namespaced());
  EXPECT_EQ(config.namespaces.network, sandbox::NamespaceMode::kPod);
}

TEST(ConvertTest, UnknownEnumValuesNameTheField) {
  v1::PodSandboxConfig config;
  auto* ns = config.mutable_linux()
                 ->mutable_security_context()
                 ->mutable_namespace_options();
  ns->set_network(static_cast<v1::NamespaceMode>(9));
  EXPECT_THAT(
      FromCri(config),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("config.linux.security_context."
                         "namespace_options.network: unknown value 9")));
  ns->set_network(v1::POD);
  ns->set_pid(static_cast<v1::NamespaceMode>(-1));
  EXPECT_THAT(FromCri(config), StatusIs(absl::StatusCode::kInvalidArgument,
                                        HasSubstr("namespace_options.pid")));
  ns->set_pid(v1::POD);
  ns->set_ipc(static_cast<v1::NamespaceMode>(4));
  EXPECT_THAT(FromCri(config), StatusIs(absl::StatusCode::kInvalidArgument,
                                        HasSubstr("namespace_options.ipc")));
  ns->set_ipc(v1::POD);
  ns->mutable_userns_options()->set_mode(static_cast<v1::NamespaceMode>(7));
  EXPECT_THAT(FromCri(config),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("namespace_options.userns_options.mode")));
  ns->mutable_userns_options()->set_mode(v1::NODE);
  EXPECT_THAT(FromCri(config), IsOk());

  config.add_port_mappings();
  config.add_port_mappings()->set_protocol(static_cast<v1::Protocol>(3));
  EXPECT_THAT(FromCri(config),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("config.port_mappings[1].protocol: "
                                 "unknown value 3")));
}

TEST(ConvertTest, Filter) {
  v1::PodSandboxFilter filter;
  ASSERT_OK_AND_ASSIGN(sandbox::ListFilter empty, FromCri(filter));
  EXPECT_FALSE(empty.id.has_value());
  EXPECT_FALSE(empty.state.has_value());
  EXPECT_TRUE(empty.label_selector.empty());

  filter.set_id("abc");
  filter.mutable_state()->set_state(v1::SANDBOX_NOTREADY);
  (*filter.mutable_label_selector())["app"] = "web";
  ASSERT_OK_AND_ASSIGN(sandbox::ListFilter full, FromCri(filter));
  EXPECT_EQ(full.id, "abc");
  EXPECT_EQ(full.state, sandbox::SandboxState::kNotReady);
  EXPECT_EQ(full.label_selector.at("app"), "web");

  filter.mutable_state()->set_state(static_cast<v1::PodSandboxState>(5));
  EXPECT_THAT(FromCri(filter),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("filter.state.state: unknown value 5")));
}

sandbox::SandboxStatus SampleStatus() {
  sandbox::SandboxStatus status;
  status.id = std::string(64, 'a');
  status.config.metadata = {"web", "u-1", "default", 1};
  status.config.labels = {{"app", "web"}};
  status.config.annotations = {{"a", "b"}};
  status.config.namespaces.userns.mode = sandbox::NamespaceMode::kPod;
  status.config.namespaces.userns.mappings.uids = {{0, 100000, 65536}};
  status.config.namespaces.userns.mappings.gids = {{0, 100000, 65536}};
  status.runtime_handler = "runc";
  status.state = sandbox::SandboxState::kReady;
  status.created_at = absl::FromUnixNanos(1700000000123456789);
  status.ip = "10.234.0.5";
  status.additional_ips = {"fd00::5"};
  return status;
}

TEST(ConvertTest, StatusToCri) {
  v1::PodSandboxStatus wire = ToCriStatus(SampleStatus());
  EXPECT_EQ(wire.id(), std::string(64, 'a'));
  EXPECT_EQ(wire.metadata().name(), "web");
  EXPECT_EQ(wire.metadata().attempt(), 1u);
  EXPECT_EQ(wire.state(), v1::SANDBOX_READY);
  EXPECT_EQ(wire.created_at(), 1700000000123456789);
  EXPECT_EQ(wire.network().ip(), "10.234.0.5");
  ASSERT_EQ(wire.network().additional_ips_size(), 1);
  EXPECT_EQ(wire.network().additional_ips(0).ip(), "fd00::5");
  const v1::UserNamespace& userns =
      wire.linux().namespaces().options().userns_options();
  EXPECT_EQ(userns.mode(), v1::POD);
  ASSERT_EQ(userns.uids_size(), 1);
  EXPECT_EQ(userns.uids(0).host_id(), 100000u);
  EXPECT_EQ(userns.uids(0).container_id(), 0u);
  EXPECT_EQ(userns.uids(0).length(), 65536u);
  EXPECT_EQ(wire.labels().at("app"), "web");
  EXPECT_EQ(wire.annotations().at("a"), "b");
  EXPECT_EQ(wire.runtime_handler(), "runc");
}

TEST(ConvertTest, ListItemToCri) {
  sandbox::SandboxStatus status = SampleStatus();
  status.state = sandbox::SandboxState::kNotReady;
  v1::PodSandbox item = ToCriPodSandbox(status);
  EXPECT_EQ(item.id(), status.id);
  EXPECT_EQ(item.metadata().uid(), "u-1");
  EXPECT_EQ(item.state(), v1::SANDBOX_NOTREADY);
  EXPECT_EQ(item.created_at(), 1700000000123456789);
  EXPECT_EQ(item.labels().at("app"), "web");
  EXPECT_EQ(item.runtime_handler(), "runc");
}

}  // namespace
}  // namespace podsandbox::cri
