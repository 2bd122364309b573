// The fixture's own check: what a pod leaves in the daemon's trees when
// nobody removes it (the daemon SIGKILLed with the pod running) is named by
// FindLeftovers, one line per record, CNI result, bundle, pin, pod files,
// runtime state and IPAM lease; and once the pod is removed, nothing is.
// And the daemon on a pure cgroup v2 layout (Options::cgroup_v2_only): a
// user-namespaced pod runs with its cgroup in the unified hierarchy alone,
// on runc and on the builtin runtime.
// Needs root.
#include <signal.h>
#include <unistd.h>

#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "cri/api.grpc.pb.h"
#include "cri/api.pb.h"
#include "cri/testing/podsandboxd_fixture.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "sys/cgroup_layout.h"
#include "sys/file.h"
#include "sys/testing/status_matchers.h"

namespace podsandbox::cri {
namespace {

namespace v1 = ::runtime::v1;
using ::testing::HasSubstr;

constexpr char kNetwork[] = "psb-fixture-test";

PodsandboxdTestBase::Options FixtureOptions() {
  PodsandboxdTestBase::Options options;
  options.bridge = "psbfix0";
  options.subnet = "10.241.0.0/24";
  options.network_name = kNetwork;
  return options;
}

v1::RunPodSandboxRequest UsernsPod(const std::string& name) {
  v1::RunPodSandboxRequest request;
  v1::PodSandboxConfig* config = request.mutable_config();
  config->mutable_metadata()->set_name(name);
  config->mutable_metadata()->set_namespace_("test");
  config->mutable_metadata()->set_uid(absl::StrCat("uid-", name));
  config->set_hostname(name);
  v1::UserNamespace* userns = config->mutable_linux()
                                  ->mutable_security_context()
                                  ->mutable_namespace_options()
                                  ->mutable_userns_options();
  userns->set_mode(v1::POD);
  for (auto* list : {userns->mutable_uids(), userns->mutable_gids()}) {
    v1::IDMapping* m = list->Add();
    m->set_container_id(0);
    m->set_host_id(100000);
    m->set_length(65536);
  }
  return request;
}

class PodsandboxdFixtureTest : public PodsandboxdTestBase {
 protected:
  PodsandboxdFixtureTest() : PodsandboxdTestBase(FixtureOptions()) {}
};

TEST_F(PodsandboxdFixtureTest, LeftoversOfAnUnremovedPodAreNamed) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon());
  EXPECT_EQ(FindLeftovers(), "") << "an idle daemon leaves nothing";

  const v1::RunPodSandboxRequest request = UsernsPod("leftover");
  v1::RunPodSandboxResponse response;
  grpc::Status run =
      runtime_service().RunPodSandbox(RpcContext().get(), request, &response);
  ASSERT_TRUE(run.ok()) << run.error_message();
  const std::string id = response.pod_sandbox_id();
  v1::PodSandboxStatusRequest status_request;
  status_request.set_pod_sandbox_id(id);
  v1::PodSandboxStatusResponse status;
  ASSERT_TRUE(runtime_service()
                  .PodSandboxStatus(RpcContext().get(), status_request, &status)
                  .ok());
  const std::string ip = status.status().network().ip();
  ASSERT_FALSE(ip.empty());

  // Nobody removes the pod: everything it made stays.
  CloseClient();
  StopDaemon(SIGKILL);
  const std::string left = FindLeftovers();
  for (const std::string& line : {
           absl::StrCat("file ", root(), "/sandboxes/", id, ".json"),
           absl::StrCat("file ", root(), "/cni/results/", kNetwork, "-", id,
                        "-eth0"),
           absl::StrCat("file ", state(), "/bundles/", id),
           absl::StrCat("file ", state(), "/bundles/", id, "/config.json"),
           absl::StrCat("mount ", state(), "/ns/netns/", id),
           absl::StrCat("mount ", state(), "/ns/userns/", id),
           absl::StrCat("file ", state(), "/ns/netns/", id),
           absl::StrCat("file ", state(), "/pods/", id, "/hostname"),
           absl::StrCat("file ", state(), "/runtime/runc/", id),
           absl::StrCat("file ", base().Sub("ipam"), "/", kNetwork, "/", ip),
       }) {
    EXPECT_THAT(left, HasSubstr(absl::StrCat(line, "\n")));
  }

  // A restarted daemon removes it, and with it every leftover.
  ASSERT_NO_FATAL_FAILURE(StartDaemon());
  RemoveAllPods();
  EXPECT_EQ(FindLeftovers(), "");
}

PodsandboxdTestBase::Options CgroupV2Options() {
  PodsandboxdTestBase::Options options = FixtureOptions();
  options.cgroup_v2_only = true;
  return options;
}

class PodsandboxdOnCgroupV2Test : public PodsandboxdTestBase {
 protected:
  explicit PodsandboxdOnCgroupV2Test(Options options = CgroupV2Options())
      : PodsandboxdTestBase(std::move(options)) {}

  void UsernsPodRunsWithItsCgroupInTheUnifiedTree();
};

// The same with the builtin runtime as the default handler: the daemon
// places the pause itself (CLONE_INTO_CGROUP on the one hierarchy).
class BuiltinOnCgroupV2Test : public PodsandboxdOnCgroupV2Test {
 protected:
  static Options BuiltinOptions() {
    Options options = CgroupV2Options();
    options.builtin_handler = true;
    options.extra_daemon_args = {"--default-runtime", "builtin"};
    return options;
  }
  BuiltinOnCgroupV2Test() : PodsandboxdOnCgroupV2Test(BuiltinOptions()) {}
};

TEST_F(PodsandboxdOnCgroupV2Test, UsernsPodRunsWithItsCgroupInTheUnifiedTree) {
  UsernsPodRunsWithItsCgroupInTheUnifiedTree();
}

TEST_F(BuiltinOnCgroupV2Test, UsernsPodRunsWithItsCgroupInTheUnifiedTree) {
  UsernsPodRunsWithItsCgroupInTheUnifiedTree();
}

void PodsandboxdOnCgroupV2Test::UsernsPodRunsWithItsCgroupInTheUnifiedTree() {
  ASSERT_OK_AND_ASSIGN(sys::CgroupLayout layout, sys::DetectCgroupLayout());
  ASSERT_NO_FATAL_FAILURE(StartDaemon());
  v1::RunPodSandboxResponse response;
  grpc::Status run = runtime_service().RunPodSandbox(
      RpcContext().get(), UsernsPod("on-v2"), &response);
  ASSERT_TRUE(run.ok()) << run.error_message() << "\n" << DaemonLog();
  const std::string id = response.pod_sandbox_id();
  v1::PodSandboxStatusRequest status_request;
  status_request.set_pod_sandbox_id(id);
  status_request.set_verbose(true);
  v1::PodSandboxStatusResponse status;
  ASSERT_TRUE(runtime_service()
                  .PodSandboxStatus(RpcContext().get(), status_request, &status)
                  .ok());
  EXPECT_EQ(status.status().state(), v1::SANDBOX_READY);
  const nlohmann::json info = nlohmann::json::parse(
      status.info().at("info"), nullptr, /*allow_exceptions=*/false);
  ASSERT_TRUE(info.is_object());
  const pid_t pid = info.value("pid", 0);
  ASSERT_GT(pid, 0);

  // The runtime saw cgroup2 alone: the pause is in <id> of the unified
  // hierarchy ("0::" in /proc/<pid>/cgroup) ...
  ASSERT_OK_AND_ASSIGN(std::string cgroups,
                       sys::ReadFile(absl::StrCat("/proc/", pid, "/cgroup")));
  EXPECT_THAT(cgroups, HasSubstr(absl::StrCat("0::/", id, "\n")));
  // ... and, where the host shows the unified hierarchy, the directory is
  // there with the pause in it, while no v1 hierarchy got one.
  std::string unified;
  if (layout == sys::CgroupLayout::kV2) unified = "/sys/fs/cgroup";
  if (layout == sys::CgroupLayout::kHybrid) unified = "/sys/fs/cgroup/unified";
  if (!unified.empty()) {
    ASSERT_OK_AND_ASSIGN(
        std::string procs,
        sys::ReadFile(absl::StrCat(unified, "/", id, "/cgroup.procs")));
    EXPECT_THAT(procs, HasSubstr(absl::StrCat(pid, "\n")));
  }
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> host_dirs,
                       sys::HostCgroupDirectories(absl::StrCat("/", id)));
  for (const std::string& dir : host_dirs) {
    if (absl::StartsWith(dir, unified + "/") || unified == "/sys/fs/cgroup") {
      continue;
    }
    EXPECT_NE(access(dir.c_str(), F_OK), 0) << dir;
  }

  RemoveAllPods();
  if (!unified.empty()) {
    EXPECT_NE(access(absl::StrCat(unified, "/", id).c_str(), F_OK), 0);
  }
}

}  // namespace
}  // namespace podsandbox::cri
