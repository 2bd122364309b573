#include "cri/ctl/verb_support.h"

#include <fstream>
#include <string>
#include <vector>

#include "cri/api.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sys/testing/status_matchers.h"
#include "sys/testing/temp_dir.h"

namespace podsandbox::cri::ctl {
namespace {

namespace v1 = ::runtime::v1;
using ::podsandbox::sys::testing::IsOkAndHolds;
using ::podsandbox::sys::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(ResolveIdPrefixTest, ExactIdWinsOverLongerIdsItPrefixes) {
  EXPECT_THAT(ResolveIdPrefix({"abc", "abcdef"}, "abc", "pod"),
              IsOkAndHolds("abc"));
}

TEST(ResolveIdPrefixTest, UniquePrefixNamesItsId) {
  EXPECT_THAT(ResolveIdPrefix({"abc1", "def2"}, "de", "pod"),
              IsOkAndHolds("def2"));
}

TEST(ResolveIdPrefixTest, UnknownIdIsPassedOnForTheRuntimeToRefuse) {
  EXPECT_THAT(ResolveIdPrefix({"abc1"}, "zz", "pod"), IsOkAndHolds("zz"));
}

TEST(ResolveIdPrefixTest, AmbiguousPrefixIsInvalidArgumentNamingTheKind) {
  EXPECT_THAT(ResolveIdPrefix({"ab1", "ab2"}, "ab", "container"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("container id prefix ab is ambiguous")));
}

TEST(ReadConfigMessageTest, ReadsLowerCamelCaseJsonAndRefusesOtherText) {
  sys::TempDir dir;
  const std::string good = dir.Sub("good.json");
  std::ofstream(good) << R"({"metadata": {"name": "web"}, "logPath": "x"})";
  v1::ContainerConfig config;
  ASSERT_OK(ReadConfigMessage(good, config));
  EXPECT_EQ(config.metadata().name(), "web");
  EXPECT_EQ(config.log_path(), "x");

  const std::string bad = dir.Sub("bad.json");
  std::ofstream(bad) << "not json";
  EXPECT_THAT(ReadConfigMessage(bad, config),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(bad)));
  EXPECT_THAT(ReadConfigMessage(dir.Sub("absent.json"), config),
              StatusIs(absl::StatusCode::kNotFound));
}

// crictl's own sample files (docs/crictl.md), as YAML.
TEST(ReadConfigMessageTest, ReadsCrictlsYamlPodAndContainerConfigs) {
  sys::TempDir dir;
  const std::string pod = dir.Sub("pod-config.yaml");
  std::ofstream(pod) << R"(metadata:
  name: nginx-sandbox
  namespace: default
  attempt: 1
  uid: hdishd83djaidwnduwk28bcsb
log_directory: /tmp
labels:
  version: 1
  enabled: true
port_mappings:
- protocol: 0
  container_port: 80
  host_port: 8080
linux:
  security_context:
    namespace_options:
      network: NODE
    run_as_user: {value: 1000}
    readonly_rootfs: false
)";
  v1::PodSandboxConfig pod_config;
  ASSERT_OK(ReadConfigMessage(pod, pod_config));
  EXPECT_EQ(pod_config.metadata().name(), "nginx-sandbox");
  EXPECT_EQ(pod_config.metadata().attempt(), 1u);
  EXPECT_EQ(pod_config.log_directory(), "/tmp");
  // A number and a bool where a string is wanted are the strings.
  EXPECT_EQ(pod_config.labels().at("version"), "1");
  EXPECT_EQ(pod_config.labels().at("enabled"), "true");
  ASSERT_EQ(pod_config.port_mappings_size(), 1);
  EXPECT_EQ(pod_config.port_mappings(0).host_port(), 8080);
  const v1::LinuxSandboxSecurityContext& security =
      pod_config.linux().security_context();
  EXPECT_EQ(security.namespace_options().network(), v1::NODE);
  EXPECT_EQ(security.run_as_user().value(), 1000);

  const std::string container = dir.Sub("container-config.yaml");
  std::ofstream(container) << R"(metadata:
  name: busybox
image:
  image: busybox
command:
- top
args: ["-b", "1"]
logPath: busybox.0.log
tty: true
envs:
- key: A
  value: "007"
linux: {}
)";
  v1::ContainerConfig container_config;
  ASSERT_OK(ReadConfigMessage(container, container_config));
  EXPECT_EQ(container_config.metadata().name(), "busybox");
  EXPECT_EQ(container_config.image().image(), "busybox");
  EXPECT_THAT(container_config.command(), ElementsAre("top"));
  EXPECT_THAT(container_config.args(), ElementsAre("-b", "1"));
  EXPECT_EQ(container_config.log_path(), "busybox.0.log");
  EXPECT_TRUE(container_config.tty());
  ASSERT_EQ(container_config.envs_size(), 1);
  EXPECT_EQ(container_config.envs(0).value(), "007");
  EXPECT_TRUE(container_config.has_linux());
}

TEST(ReadConfigMessageTest, BadYamlIsInvalidArgumentNamingTheFileAndPlace) {
  sys::TempDir dir;
  v1::ContainerConfig config;
  const std::string broken = dir.Sub("broken.yaml");
  std::ofstream(broken) << "metadata:\n  name: [unclosed\n";
  EXPECT_THAT(
      ReadConfigMessage(broken, config),
      StatusIs(absl::StatusCode::kInvalidArgument,
               ::testing::AllOf(HasSubstr(broken), HasSubstr("YAML at line"))));
  const std::string unknown = dir.Sub("unknown.yaml");
  std::ofstream(unknown) << "metadata:\n  name: a\nno_such_field: 1\n";
  EXPECT_THAT(ReadConfigMessage(unknown, config),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       ::testing::AllOf(HasSubstr(unknown),
                                        HasSubstr("no_such_field"))));
  const std::string bad_bool = dir.Sub("bad_bool.yaml");
  std::ofstream(bad_bool) << "tty: maybe\n";
  EXPECT_THAT(ReadConfigMessage(bad_bool, config),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("tty")));
  const std::string list = dir.Sub("list.yaml");
  std::ofstream(list) << "- a\n- b\n";
  EXPECT_THAT(ReadConfigMessage(list, config),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("neither a JSON object nor a YAML mapping")));
}

TEST(AddLabelsTest, SplitsAtTheFirstEquals) {
  v1::PodSandboxFilter filter;
  AddLabels({"app=web", "expr=a=b", "bare"}, filter.mutable_label_selector());
  EXPECT_EQ(filter.label_selector().at("app"), "web");
  EXPECT_EQ(filter.label_selector().at("expr"), "a=b");
  EXPECT_EQ(filter.label_selector().at("bare"), "");
}

TEST(NewestFirstTest, OrdersByCreationKeepingTiesAndCutsToLast) {
  std::vector<v1::PodSandbox> pods(4);
  const int64_t created[] = {10, 30, 20, 30};
  for (int i = 0; i < 4; ++i) {
    pods[i].set_id(std::to_string(i));
    pods[i].set_created_at(created[i]);
  }
  NewestFirst(pods, 0);
  std::vector<std::string> ids;
  for (const v1::PodSandbox& p : pods) ids.push_back(p.id());
  EXPECT_THAT(ids, ElementsAre("1", "3", "2", "0"));
  NewestFirst(pods, 2);
  ASSERT_EQ(pods.size(), 2u);
  EXPECT_EQ(pods[1].id(), "3");
}

}  // namespace
}  // namespace podsandbox::cri::ctl
