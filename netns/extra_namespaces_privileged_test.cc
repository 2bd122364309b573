// NamespaceFactory with ExtraNamespaces, the pins a pod without a pause
// needs (infra = "none", as CRI-O's pinns makes them): UTS and IPC
// namespaces created with the netns inside the pod's user namespace (which
// owns them), pinned beside it, the hostname set in the pinned UTS
// namespace; removed with the rest; every injected fault leaves nothing.
#include <fcntl.h>
#include <sched.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "netns/namespace_file.h"
#include "netns/namespaces.h"
#include "sys/proc.h"
#include "sys/real_sys.h"
#include "sys/status.h"
#include "sys/testing/fault_loop.h"
#include "sys/testing/faulty_sys.h"
#include "sys/testing/leak_check.h"
#include "sys/testing/status_matchers.h"
#include "sys/testing/temp_dir.h"

namespace podsandbox::netns {
namespace {

using ::podsandbox::sys::testing::IsOkAndHolds;
using ::podsandbox::sys::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

const userns::IdMappings kMappings = {{{0, 200000, 65536}},
                                      {{0, 200000, 65536}}};

// The user namespace owning the namespace pinned at `pin`.
absl::StatusOr<NamespaceId> OwnerOf(sys::Sys& sys, const std::string& pin) {
  ASSIGN_OR_RETURN(sys::UniqueFd fd, OpenNamespace(sys, pin));
  ASSIGN_OR_RETURN(sys::UniqueFd owner, OwningUserNamespace(sys, fd.get()));
  return IdOf(owner.get());
}

// The hostname a forked child sees after joining the UTS namespace pinned
// at `pin`.
std::string HostnameIn(const std::string& pin) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return "<pipe>";
  pid_t child = ::fork();
  if (child == 0) {
    int fd = ::open(pin.c_str(), O_RDONLY);
    struct utsname name;
    if (fd < 0 || ::setns(fd, CLONE_NEWUTS) != 0 || ::uname(&name) != 0) {
      ::_exit(1);
    }
    (void)!::write(fds[1], name.nodename, ::strlen(name.nodename));
    ::_exit(0);
  }
  ::close(fds[1]);
  char buf[128] = {};
  ssize_t n = ::read(fds[0], buf, sizeof(buf) - 1);
  ::close(fds[0]);
  ::waitpid(child, nullptr, 0);
  return n > 0 ? std::string(buf, n) : "<none>";
}

class ExtraNamespacesTest : public sys::LeakCheckedTest {
 protected:
  void SetUp() override {
    WatchDirectory(dir_.path());
    LeakCheckedTest::SetUp();
    ASSERT_OK(factory_.Init());
  }

  void CleanUpTestFixtures() override {
    UnmountPinDirs(real_, dir_.path()).IgnoreError();  // leak check reports
  }

  static bool Exists(const std::string& path) {
    return !path.empty() && ::access(path.c_str(), F_OK) == 0;
  }

  sys::RealSys real_;
  sys::FaultySys sys_{real_};
  sys::TempDir dir_;
  NamespaceFactory factory_{sys_, dir_.path()};
};

TEST_F(ExtraNamespacesTest, UtsAndIpcBelongToThePodUsernsAndKeepTheHostname) {
  ASSERT_OK_AND_ASSIGN(PinnedNamespaces ns,
                       factory_.Create("pod", &kMappings, {true, "pod-host"}));
  absl::Cleanup remove = [&] { EXPECT_OK(factory_.Remove("pod")); };
  ASSERT_TRUE(Exists(ns.uts));
  ASSERT_TRUE(Exists(ns.ipc));
  ASSERT_OK_AND_ASSIGN(NamespaceId userns, IdOfPath(ns.userns));
  EXPECT_THAT(OwnerOf(sys_, ns.uts), IsOkAndHolds(userns));
  EXPECT_THAT(OwnerOf(sys_, ns.ipc), IsOkAndHolds(userns));
  EXPECT_THAT(OwnerOf(sys_, ns.netns), IsOkAndHolds(userns));
  EXPECT_THAT(IdOfPath(ns.uts),
              IsOkAndHolds(::testing::Ne(*IdOfPath("/proc/self/ns/uts"))));
  EXPECT_THAT(IdOfPath(ns.ipc),
              IsOkAndHolds(::testing::Ne(*IdOfPath("/proc/self/ns/ipc"))));
  EXPECT_EQ(HostnameIn(ns.uts), "pod-host");
  EXPECT_THAT(factory_.ListNames(),
              IsOkAndHolds(::testing::ElementsAre("pod")));

  std::move(remove).Cancel();
  ASSERT_OK(factory_.Remove("pod"));
  for (const std::string& pin : {ns.netns, ns.userns, ns.uts, ns.ipc}) {
    EXPECT_FALSE(Exists(pin)) << pin;
  }
  EXPECT_THAT(factory_.ListNames(), IsOkAndHolds(IsEmpty()));
  EXPECT_OK(factory_.Remove("pod"));  // idempotent
}

TEST_F(ExtraNamespacesTest, WithoutMappingsTheyBelongToTheHostUserns) {
  ASSERT_OK_AND_ASSIGN(PinnedNamespaces ns,
                       factory_.Create("pod", nullptr, {true, "plain"}));
  absl::Cleanup remove = [&] { EXPECT_OK(factory_.Remove("pod")); };
  EXPECT_THAT(OwnerOf(sys_, ns.uts),
              IsOkAndHolds(*IdOfPath("/proc/self/ns/user")));
  EXPECT_EQ(HostnameIn(ns.uts), "plain");
}

TEST_F(ExtraNamespacesTest, HostnameWithoutAUtsNamespaceIsRefusedFirst) {
  sys_.Reset();
  EXPECT_THAT(
      factory_.Create("pod", &kMappings, {false, "x"}),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("UTS namespace")));
  EXPECT_THAT(
      factory_.Create("pod", &kMappings, {true, std::string(65, 'h')}),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("64 bytes")));
  for (int c = 0; c < sys::kSysCallCount; ++c) {
    EXPECT_EQ(sys_.count(static_cast<sys::SysCall>(c)), 0)
        << sys::SysCallName(static_cast<sys::SysCall>(c));
  }
}

TEST_F(ExtraNamespacesTest, EachInjectedFaultLeavesNothing) {
  auto create = [&] {
    return factory_.Create("pod", &kMappings, {true, "faulted"});
  };
  // The pin directories exist from a first run on: every later run makes
  // the same calls.
  ASSERT_OK(create().status());
  ASSERT_OK(factory_.Remove("pod"));
  absl::StatusOr<PinnedNamespaces> result;
  sys::CallCounts counts = sys::CountCalls(sys_, [&] { result = create(); });
  ASSERT_OK(result.status());
  ASSERT_OK(factory_.Remove("pod"));
  sys::ForEachFault(
      sys_, counts, ENOSPC, [&](const sys::Fault&) { result = create(); },
      [&](const sys::Fault&) {
        if (result.ok()) {
          // A fault the helper's end tolerates (its kill or first reap:
          // the closed hold pipe ends it, the reap is retried): whole.
          EXPECT_EQ(HostnameIn(result->uts), "faulted");
          ASSERT_OK(factory_.Remove("pod"));
        } else {
          EXPECT_THAT(result.status().ToString(),
                      HasSubstr(std::strerror(ENOSPC)));
        }
        EXPECT_THAT(factory_.ListNames(), IsOkAndHolds(IsEmpty()));
        // The helper child was reaped.
        EXPECT_THAT(sys::ListChildren(), IsOkAndHolds(IsEmpty()));
      });
}

}  // namespace
}  // namespace podsandbox::netns
