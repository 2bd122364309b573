// The fixture's own check: what a pod leaves in the daemon's trees when
// nobody removes it (the daemon SIGKILLed with the pod running) is named by
// FindLeftovers, one line per record, CNI result, bundle, pin, pod files,
// runtime state and IPAM lease; and once the pod is removed, nothing is.
// Needs root.
#include <signal.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "cri/api.grpc.pb.h"
#include "cri/api.pb.h"
#include "cri/testing/podsandboxd_fixture.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

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

class PodsandboxdFixtureTest : public PodsandboxdTestBase {
 protected:
  PodsandboxdFixtureTest() : PodsandboxdTestBase(FixtureOptions()) {}
};

TEST_F(PodsandboxdFixtureTest, LeftoversOfAnUnremovedPodAreNamed) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon());
  EXPECT_EQ(FindLeftovers(), "") << "an idle daemon leaves nothing";

  v1::RunPodSandboxRequest request;
  v1::PodSandboxConfig* config = request.mutable_config();
  config->mutable_metadata()->set_name("leftover");
  config->mutable_metadata()->set_namespace_("test");
  config->mutable_metadata()->set_uid("uid-leftover");
  config->set_hostname("leftover");
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

}  // namespace
}  // namespace podsandbox::cri
