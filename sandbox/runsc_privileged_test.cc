// runsc (gVisor) on this host: what runs, and the refusals, before any side
// effect, of what cannot (see runsc_runtime.h). Fails, never skips, when
// runsc is missing: scripts/setup installs it.
#include <sys/mount.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "netns/namespaces.h"
#include "oci/runtime_factory.h"
#include "oci/runtime_handler.h"
#include "sandbox/pause_task.h"
#include "sandbox/testing/pause_task_env.h"
#include "sys/real_sys.h"
#include "sys/testing/leak_check.h"
#include "sys/testing/status_matchers.h"
#include "sys/testing/temp_dir.h"

namespace podsandbox::sandbox {
namespace {

using ::podsandbox::sys::testing::StatusIs;
using ::testing::HasSubstr;

constexpr char kRunsc[] = "/usr/bin/runsc";
const userns::IdMappings kMappings = {{{0, 100000, 65536}},
                                      {{0, 100000, 65536}}};

bool Exists(const std::string& path) {
  return ::access(path.c_str(), F_OK) == 0;
}

class RunscTest : public sys::LeakCheckedTest {
 protected:
  void SetUp() override {
    ASSERT_TRUE(Exists(kRunsc)) << kRunsc << " missing: run scripts/setup";
    ASSERT_OK(env_.PrepareRootfs());
    WatchDirectory(state_.path());
    WatchDirectory(bundles_.path());
    WatchDirectory(pins_.path());
    LeakCheckedTest::SetUp();
    ASSERT_OK(env_.Start());
    ASSERT_OK(factory_.Init());
  }

  void CleanUpTestFixtures() override {
    netns::UnmountPinDirs(real_, pins_.path())
        .IgnoreError();  // leak check reports
  }

  oci::RuntimeHandler Handler(std::vector<std::string> extra_args) {
    oci::RuntimeHandler h;
    h.name = "gvisor";
    h.type = oci::RuntimeType::kRunsc;
    h.path = kRunsc;
    h.root = state_.Sub("root");
    h.extra_args = std::move(extra_args);
    h.timeout = absl::Seconds(60);
    return h;
  }

  oci::TaskSpec Spec(const std::string& id) {
    return testing::PauseTaskEnv::Spec(id, "runsc-test");
  }

  std::string id_ = absl::StrCat("psb-runsc-", ::getpid());
  sys::RealSys real_;
  sys::TempDir rootfs_{"/tmp"};
  sys::TempDir bundles_{"/tmp"};
  sys::TempDir state_{"/tmp"};
  sys::TempDir pins_;
  std::string bundle_ = bundles_.Sub(id_);
  testing::PauseTaskEnv env_{real_, rootfs_.path()};
  PauseTask& task_ = env_.task();
  netns::NamespaceFactory factory_{real_, pins_.path()};
};

// What works: a host-network pod on a --network=host handler.
TEST_F(RunscTest, HostNetworkPodRunsStopsAndIsDeleted) {
  oci::RuntimeHandler handler = Handler({"--network=host", "--ignore-cgroups"});
  ASSERT_OK_AND_ASSIGN(PauseProcess pause,
                       task_.Start(Spec(id_), handler, bundle_));
  absl::Cleanup remove = [&] {
    EXPECT_OK(task_.Delete(handler, id_, bundle_));
  };
  // The pid is runsc's sandbox process, which lives as long as the pause.
  EXPECT_TRUE(Exists(absl::StrCat("/proc/", pause.pid)));
  ASSERT_OK(task_.Stop(handler, id_, absl::Seconds(10)));
  EXPECT_TRUE(task_.watcher().WaitForExit(id_, absl::Seconds(5)));
  std::move(remove).Cancel();
  ASSERT_OK(task_.Delete(handler, id_, bundle_));
  EXPECT_FALSE(Exists(bundle_));
  EXPECT_OK(task_.Delete(handler, id_, bundle_));
}

// What does not, refused before any side effect, each with its reason.
TEST_F(RunscTest, PodNetworkIsRefusedWhereRunscMistakesTheNetnsForTheRoot) {
  ASSERT_OK_AND_ASSIGN(netns::PinnedNamespaces ns,
                       factory_.Create(id_, nullptr));
  absl::Cleanup unpin = [&] { EXPECT_OK(factory_.Remove(id_)); };
  oci::TaskSpec spec = Spec(id_);
  spec.netns_path = ns.netns;
  // On a kernel that hides rmem_default in non-initial netns this would
  // run; this host (and any Linux 6.x seen so far) shows it.
  EXPECT_THAT(task_.Start(spec, Handler({}), bundle_),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("cannot run with network enabled in root "
                                 "network namespace")));
  EXPECT_FALSE(Exists(bundle_));
}

// The same refusal from the pod's needs alone, as step 0 asks it: no pin,
// and the probe's throwaway netns leaves nothing (the leak check).
TEST_F(RunscTest, PodNetworkRefusalNeedsNoPinnedNamespace) {
  EXPECT_THAT(oci::CheckCanRun(real_, Handler({}),
                               {/*own_netns=*/true, /*user_namespace=*/false}),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("cannot run with network enabled in root "
                                 "network namespace")));
}

TEST_F(RunscTest, UserNamespacesAreRefused) {
  ASSERT_OK_AND_ASSIGN(netns::PinnedNamespaces ns,
                       factory_.Create(id_, &kMappings));
  absl::Cleanup unpin = [&] { EXPECT_OK(factory_.Remove(id_)); };
  oci::TaskSpec spec = Spec(id_);
  spec.netns_path = ns.netns;
  spec.id_mappings = kMappings;
  spec.userns_path = ns.userns;
  EXPECT_THAT(task_.Start(spec, Handler({}), bundle_),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("cannot join the pod's user namespace")));
  // Host network with a user namespace the runtime would create.
  oci::TaskSpec host = Spec(id_);
  host.id_mappings = kMappings;
  EXPECT_THAT(task_.Start(host, Handler({"--network=host"}), bundle_),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("user namespace are not supported")));
  EXPECT_FALSE(Exists(bundle_));
}

TEST_F(RunscTest, NetworkModeMustFitThePod) {
  ASSERT_OK_AND_ASSIGN(netns::PinnedNamespaces ns,
                       factory_.Create(id_, nullptr));
  absl::Cleanup unpin = [&] { EXPECT_OK(factory_.Remove(id_)); };
  oci::TaskSpec pod = Spec(id_);
  pod.netns_path = ns.netns;
  EXPECT_THAT(task_.Start(pod, Handler({"--network=host"}), bundle_),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("only run host-network pods")));
  EXPECT_THAT(task_.Start(Spec(id_), Handler({}), bundle_),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("--network=host")));
  EXPECT_THAT(
      task_.Start(Spec(id_), Handler({"--network=none"}), bundle_),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("no network")));
  EXPECT_FALSE(Exists(bundle_));
}

}  // namespace
}  // namespace podsandbox::sandbox
