// PodContextOf: a container is refused for an unknown or stopped pod before
// anything is made (the refusal comes from the controller's memory alone);
// a ready pod's namespaces, files and mappings are where the container
// layer joins them. Over a fake Controller: no root.
#include "cri/pod_context.h"

#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sandbox/controller.h"
#include "sys/file.h"
#include "sys/real_sys.h"
#include "sys/testing/status_matchers.h"
#include "sys/testing/temp_dir.h"

namespace podsandbox::cri {
namespace {

using ::podsandbox::sys::testing::IsOk;
using ::podsandbox::sys::testing::StatusIs;
using ::testing::HasSubstr;

// Answers PodSandboxStatus from a map and counts every call; the verbs
// that would change anything fail the test.
class StatusOnlyController : public sandbox::Controller {
 public:
  std::map<std::string, sandbox::SandboxStatus> pods;
  int status_calls = 0;
  int other_calls = 0;

  // sandbox::Controller
  absl::StatusOr<std::string> RunPodSandbox(const sandbox::PodConfig&,
                                            absl::string_view) override {
    ++other_calls;
    return absl::UnimplementedError("not in this test");
  }
  absl::Status StopPodSandbox(absl::string_view) override {
    ++other_calls;
    return absl::UnimplementedError("not in this test");
  }
  absl::Status RemovePodSandbox(absl::string_view) override {
    ++other_calls;
    return absl::UnimplementedError("not in this test");
  }
  absl::StatusOr<sandbox::SandboxStatus> PodSandboxStatus(
      absl::string_view id, bool verbose) override {
    ++status_calls;
    auto it = pods.find(std::string(id));
    if (it == pods.end()) return absl::NotFoundError("no such sandbox");
    return it->second;
  }
  std::vector<sandbox::SandboxStatus> ListPodSandbox(
      const sandbox::ListFilter&) override {
    ++other_calls;
    return {};
  }
  absl::Status NetworkReady() override { return absl::OkStatus(); }
  absl::Status RuntimeReady() override { return absl::OkStatus(); }
};

sandbox::SandboxStatus Pod(const std::string& id, sandbox::SandboxState state) {
  sandbox::SandboxStatus s;
  s.id = id;
  s.state = state;
  s.runtime_handler = "runc";
  s.config.metadata.name = "web";
  s.config.metadata.namespace_ = "default";
  s.config.metadata.uid = "uid-web";
  s.config.hostname = "web";
  s.config.cgroup_parent = "/kubepods/podweb";
  s.config.log_directory = "/var/log/pods/web";
  s.info_json = R"({"pid": 4242, "netNamespacePath": "/pins/netns/)" + id +
                R"(", "shmPath": "/state/shm/)" + id + R"("})";
  return s;
}

TEST(PodContextOfTest, UnknownPodIsInvalidArgumentNamingTheField) {
  StatusOnlyController controller;
  EXPECT_THAT(PodContextOf(controller, "nope", "/state"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("pod_sandbox_id: no pod sandbox nope")));
  EXPECT_EQ(controller.other_calls, 0);
}

TEST(PodContextOfTest, StoppedPodIsInvalidArgumentNamingTheField) {
  StatusOnlyController controller;
  controller.pods["stopped"] = Pod("stopped", sandbox::SandboxState::kNotReady);
  EXPECT_THAT(PodContextOf(controller, "stopped", "/state"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("pod_sandbox_id: pod sandbox stopped is "
                                 "not ready")));
  EXPECT_EQ(controller.status_calls, 1);
  EXPECT_EQ(controller.other_calls, 0);
}

TEST(PodContextOfTest, ReadyPodWithoutARunningPauseIsRefused) {
  StatusOnlyController controller;
  sandbox::SandboxStatus pod = Pod("p", sandbox::SandboxState::kReady);
  pod.info_json = R"({"pid": 0})";
  controller.pods["p"] = pod;
  EXPECT_THAT(PodContextOf(controller, "p", "/state"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("has no running pause")));
}

TEST(PodContextOfTest, ReadyPodGivesThePausesNamespacesAndThePodFiles) {
  sys::TempDir state;
  sys::RealSys real;
  ASSERT_THAT(sys::MakeDirs(real, state.Sub("pods/p"), 0755), IsOk());
  std::ofstream(state.Sub("pods/p/hosts")) << "127.0.0.1 localhost\n";
  StatusOnlyController controller;
  sandbox::SandboxStatus pod = Pod("p", sandbox::SandboxState::kReady);
  pod.config.namespaces.pid = sandbox::NamespaceMode::kPod;
  controller.pods["p"] = pod;

  ASSERT_OK_AND_ASSIGN(container::PodContext context,
                       PodContextOf(controller, "p", state.path()));
  EXPECT_EQ(context.sandbox_id, "p");
  EXPECT_EQ(context.pod_name, "web");
  EXPECT_EQ(context.net_ns_path, "/pins/netns/p");
  EXPECT_EQ(context.ipc_ns_path, "/proc/4242/ns/ipc");
  EXPECT_EQ(context.uts_ns_path, "/proc/4242/ns/uts");
  EXPECT_EQ(context.pid_mode, container::PidMode::kPod);
  EXPECT_EQ(context.pid_ns_path, "/proc/4242/ns/pid");
  EXPECT_FALSE(context.user_namespaced());
  EXPECT_EQ(context.hosts_path, state.Sub("pods/p/hosts"));
  EXPECT_EQ(context.resolv_conf_path, "") << "absent files are not named";
  EXPECT_EQ(context.shm_path, "/state/shm/p");
  EXPECT_EQ(context.cgroup_parent, "/kubepods/podweb");
  EXPECT_EQ(context.log_directory, "/var/log/pods/web");
  EXPECT_EQ(context.runtime_handler, "runc");
  EXPECT_EQ(controller.other_calls, 0);
}

}  // namespace
}  // namespace podsandbox::cri
