// Real namespaces, real mounts, real runc: what the kernel did, not what we
// meant it to do.
#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <string>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "netns/libnl_netlink.h"
#include "netns/loopback.h"
#include "netns/namespace_file.h"
#include "netns/namespaces.h"
#include "netns/pin.h"
#include "netns/testing/userns_probe.h"
#include "nlohmann/json.hpp"
#include "sys/file.h"
#include "sys/proc.h"
#include "sys/real_sys.h"
#include "sys/status.h"
#include "sys/subprocess.h"
#include "sys/testing/fault_loop.h"
#include "sys/testing/faulty_sys.h"
#include "sys/testing/leak_check.h"
#include "sys/testing/status_matchers.h"
#include "sys/testing/temp_dir.h"

namespace podsandbox::netns {
namespace {

using ::podsandbox::sys::SysCall;
using ::podsandbox::sys::testing::IsOkAndHolds;
using ::podsandbox::sys::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

const userns::IdMappings kOneRange = {{{0, 100000, 65536}},
                                      {{0, 100000, 65536}}};
const userns::IdMappings kSeveralRanges = {
    {{0, 200000, 1000}, {1000, 300000, 64536}},
    {{0, 400000, 65536}, {65536, 500000, 1}}};

class NamespacesTest : public sys::LeakCheckedTest {
 protected:
  void SetUp() override {
    WatchDirectory(dir_.path());
    LeakCheckedTest::SetUp();
    ASSERT_OK(factory_.Init());
  }

  void CleanUpTestFixtures() override {
    UnmountPinDirs(real_, dir_.path()).IgnoreError();  // leak check reports
  }

  bool Exists(const std::string& path) {
    return !path.empty() && ::access(path.c_str(), F_OK) == 0;
  }

  sys::RealSys real_;
  sys::FaultySys sys_{real_};
  sys::TempDir dir_;
  NamespaceFactory factory_{sys_, dir_.path()};
};

TEST_F(NamespacesTest, NetnsIsOwnedByTheNewUserNamespace) {
  ASSERT_OK_AND_ASSIGN(PinnedNamespaces ns, factory_.Create("pod", &kOneRange));
  absl::Cleanup remove = [&] { EXPECT_OK(factory_.Remove("pod")); };

  ASSERT_OK_AND_ASSIGN(sys::UniqueFd netns, OpenNamespace(sys_, ns.netns));
  ASSERT_OK_AND_ASSIGN(sys::UniqueFd owner,
                       OwningUserNamespace(sys_, netns.get()));
  ASSERT_OK_AND_ASSIGN(NamespaceId owner_id, IdOf(owner.get()));
  EXPECT_THAT(IdOfPath(ns.userns), IsOkAndHolds(owner_id));
  ASSERT_OK_AND_ASSIGN(NamespaceId host_userns, IdOfPath("/proc/self/ns/user"));
  EXPECT_NE(owner_id, host_userns);
  ASSERT_OK_AND_ASSIGN(NamespaceId host_netns, IdOfPath("/proc/self/ns/net"));
  EXPECT_THAT(IdOfPath(ns.netns), IsOkAndHolds(::testing::Ne(host_netns)));
}

TEST_F(NamespacesTest, WithoutMappingsNetnsBelongsToTheHostUserNamespace) {
  ASSERT_OK_AND_ASSIGN(PinnedNamespaces ns, factory_.Create("pod", nullptr));
  absl::Cleanup remove = [&] { EXPECT_OK(factory_.Remove("pod")); };
  EXPECT_THAT(ns.userns, IsEmpty());
  ASSERT_OK_AND_ASSIGN(sys::UniqueFd netns, OpenNamespace(sys_, ns.netns));
  ASSERT_OK_AND_ASSIGN(sys::UniqueFd owner,
                       OwningUserNamespace(sys_, netns.get()));
  EXPECT_THAT(IdOf(owner.get()), IsOkAndHolds(*IdOfPath("/proc/self/ns/user")));
}

TEST_F(NamespacesTest, MapsReadBackExactlyAsRequested) {
  for (const userns::IdMappings* mappings : {&kOneRange, &kSeveralRanges}) {
    ASSERT_OK_AND_ASSIGN(PinnedNamespaces ns, factory_.Create("pod", mappings));
    absl::Cleanup remove = [&] { EXPECT_OK(factory_.Remove("pod")); };
    ASSERT_OK_AND_ASSIGN(UsernsView view, ProbeUserns(ns.userns));
    EXPECT_EQ(view.mappings, *mappings);
    // Written by a privileged parent: setgroups stays usable in the pod.
    EXPECT_EQ(view.setgroups, "allow");
    // Owned by host root, never by a uid a host process may run as.
    EXPECT_EQ(view.owner_uid, 0u);
  }
}

// The finding this design answers: were the user namespace owned by the
// pod root's host uid, any host process with that euid would hold every
// capability in it and could join it and the pod's netns. Owned by root,
// such a process can join neither.
TEST_F(NamespacesTest, PodRootsHostUidCannotJoinThePodsNamespaces) {
  ASSERT_OK_AND_ASSIGN(PinnedNamespaces ns, factory_.Create("pod", &kOneRange));
  absl::Cleanup remove = [&] { EXPECT_OK(factory_.Remove("pod")); };
  ASSERT_OK_AND_ASSIGN(sys::UniqueFd userns, OpenNamespace(sys_, ns.userns));
  ASSERT_OK_AND_ASSIGN(sys::UniqueFd netns, OpenNamespace(sys_, ns.netns));
  uid_t owner = 12345;
  ASSERT_EQ(::ioctl(userns.get(), NS_GET_OWNER_UID, &owner), 0);
  EXPECT_EQ(owner, 0u);

  const uid_t pod_root = *userns::ToHostId(kOneRange.uids, 0);
  // Exit codes of the child: what it could do as the pod root's host uid.
  enum : int { kRefused = 0, kJoinedUserns, kJoinedNetns, kNoSetuid, kOther };
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // Raw syscalls only: the child of a threaded process. setresuid to a
    // non-zero uid drops every capability in the host's user namespace.
    if (::syscall(SYS_setresgid, pod_root, pod_root, pod_root) != 0 ||
        ::syscall(SYS_setresuid, pod_root, pod_root, pod_root) != 0) {
      ::_exit(kNoSetuid);
    }
    if (::setns(netns.get(), CLONE_NEWNET) == 0) ::_exit(kJoinedNetns);
    if (errno != EPERM) ::_exit(kOther);
    if (::setns(userns.get(), CLONE_NEWUSER) == 0) {
      // The owner's way in: inside, it holds every capability, so the
      // netns that namespace owns is open to it too.
      ::_exit(::setns(netns.get(), CLONE_NEWNET) == 0 ? kJoinedNetns
                                                      : kJoinedUserns);
    }
    ::_exit(errno == EPERM ? kRefused : kOther);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), kRefused);
}

TEST_F(NamespacesTest, PinsOutliveTheHelperProcess) {
  ASSERT_OK_AND_ASSIGN(PinnedNamespaces ns, factory_.Create("pod", &kOneRange));
  absl::Cleanup remove = [&] { EXPECT_OK(factory_.Remove("pod")); };
  // The helper was killed and reaped before Create returned.
  EXPECT_THAT(sys::ListChildren(), IsOkAndHolds(IsEmpty()));
  // Yet both namespaces are alive and joinable through their pins.
  ASSERT_OK_AND_ASSIGN(sys::UniqueFd netns, OpenNamespace(sys_, ns.netns));
  ASSERT_OK_AND_ASSIGN(UsernsView view, ProbeUserns(ns.userns));
  EXPECT_EQ(view.mappings, kOneRange);
}

TEST_F(NamespacesTest, LoopbackComesUpOverNetlink) {
  ASSERT_OK_AND_ASSIGN(PinnedNamespaces ns, factory_.Create("pod", &kOneRange));
  absl::Cleanup remove = [&] { EXPECT_OK(factory_.Remove("pod")); };
  EXPECT_THAT(LinkIsUp(ns.netns, "lo"), IsOkAndHolds(false));
  LibnlNetlink netlink;
  ASSERT_OK(BringUpLoopback(sys_, netlink, ns.netns));
  EXPECT_THAT(LinkIsUp(ns.netns, "lo"), IsOkAndHolds(true));
}

TEST_F(NamespacesTest, RemoveIsIdempotent) {
  ASSERT_OK_AND_ASSIGN(PinnedNamespaces ns, factory_.Create("pod", &kOneRange));
  ASSERT_OK(factory_.Remove("pod"));
  EXPECT_FALSE(Exists(ns.netns));
  EXPECT_FALSE(Exists(ns.userns));
  ASSERT_OK(factory_.Remove("pod"));
  ASSERT_OK(Unpin(sys_, ns.netns));
  ASSERT_OK(factory_.Remove("never-created"));
}

TEST_F(NamespacesTest, DuplicateAndBadNamesAreRefused) {
  ASSERT_OK_AND_ASSIGN(PinnedNamespaces ns, factory_.Create("pod", &kOneRange));
  absl::Cleanup remove = [&] { EXPECT_OK(factory_.Remove("pod")); };
  EXPECT_THAT(
      factory_.Create("pod", &kOneRange),
      StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("/netns/pod")));
  for (const char* bad : {"", ".", "..", "a/b"}) {
    EXPECT_THAT(
        factory_.Create(bad, nullptr),
        StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("name")));
  }
  // The failed duplicate did not disturb the original.
  EXPECT_THAT(ProbeUserns(ns.userns),
              IsOkAndHolds(::testing::Field(&UsernsView::mappings, kOneRange)));
}

TEST_F(NamespacesTest, ListNamesSeesPins) {
  ASSERT_OK(factory_.Create("b", &kOneRange).status());
  ASSERT_OK(factory_.Create("a", nullptr).status());
  absl::Cleanup remove = [&] {
    EXPECT_OK(factory_.Remove("a"));
    EXPECT_OK(factory_.Remove("b"));
  };
  EXPECT_THAT(factory_.ListNames(), IsOkAndHolds(ElementsAre("a", "b")));
}

// Every syscall the create path makes, failed in turn: each failure comes
// back as an error and leaves no pin, mount or process (the fixture checks
// mounts, files and processes after the test; here we check after each try).
TEST_F(NamespacesTest, EveryFailingSyscallLeavesNothing) {
  for (const userns::IdMappings* mappings :
       {&kOneRange, (const userns::IdMappings*)nullptr}) {
    sys::CallCounts counts = sys::CountCalls(
        sys_, [&] { ASSERT_OK(factory_.Create("probe", mappings).status()); });
    ASSERT_OK(factory_.Remove("probe"));
    // The loop must at least cover the clone, the pin's file and its mount.
    ASSERT_GE(counts[static_cast<int>(SysCall::kClone)], 1);
    ASSERT_GE(counts[static_cast<int>(SysCall::kOpen)], 1);
    ASSERT_GE(counts[static_cast<int>(SysCall::kMount)], 1);
    sys::HostSnapshot before = sys::HostSnapshot::Take({dir_.path()});
    SCOPED_TRACE(mappings ? "with userns" : "without userns");
    absl::StatusOr<PinnedNamespaces> ns;
    sys::ForEachFault(
        sys_, counts, EIO,
        [&](const sys::Fault&) { ns = factory_.Create("faulty", mappings); },
        [&](const sys::Fault& fault) {
          if (ns.ok()) {
            // Only the helper's teardown may absorb a fault: its kill (it
            // also exits when its hold pipe closes) and its reaping
            // (retried). Then the result must be complete and removable.
            bool teardown =
                fault.call == SysCall::kWaitid ||
                (fault.call == SysCall::kPidfdSendSignal && fault.nth == 2);
            EXPECT_TRUE(teardown) << "succeeded despite the fault";
            ASSERT_OK(factory_.Remove("faulty"));
          }
          EXPECT_EQ(sys::DescribeDifferences(
                        before, sys::HostSnapshot::Take({dir_.path()})),
                    "");
        });
  }
}

// The point of the whole library: runc joins the pinned user and network
// namespaces by path, with identical mappings, and can mount sysfs because
// the netns belongs to the pod's user namespace.
class RuncJoinTest : public NamespacesTest {
 protected:
  // Runs the static probe in a container joining `netns` and `userns_path`
  // with `mappings`; returns what it printed, or runc's error.
  absl::StatusOr<std::string> RunProbe(const std::string& netns,
                                       const std::string& userns_path,
                                       const userns::IdMappings& mappings) {
    sys::TempDir bundle("/tmp");
    std::string rootfs = bundle.Sub("rootfs");
    for (const char* dir : {"", "/proc", "/sys", "/dev"}) {
      RETURN_IF_ERROR(sys::MakeDirs(real_, rootfs + dir, 0755));
    }
    ASSIGN_OR_RETURN(std::string probe,
                     sys::ReadFile("netns/testing/sysfs_probe"));
    RETURN_IF_ERROR(
        sys::WriteFileAtomically(real_, rootfs + "/probe", probe, 0755));
    auto json_map = [](const std::vector<userns::IdMapping>& list) {
      nlohmann::json out = nlohmann::json::array();
      for (const userns::IdMapping& m : list) {
        out.push_back({{"containerID", m.container_id},
                       {"hostID", m.host_id},
                       {"size", m.length}});
      }
      return out;
    };
    nlohmann::json spec = {
        {"ociVersion", "1.0.2"},
        {"process",
         {{"args", {"/probe"}},
          {"cwd", "/"},
          {"user", {{"uid", 0}, {"gid", 0}}},
          {"env", {"PATH=/"}}}},
        {"root", {{"path", "rootfs"}, {"readonly", true}}},
        {"hostname", "probe"},
        {"mounts",
         {{{"destination", "/proc"}, {"type", "proc"}, {"source", "proc"}},
          {{"destination", "/dev"},
           {"type", "tmpfs"},
           {"source", "tmpfs"},
           {"options", {"nosuid", "strictatime", "mode=755", "size=65536k"}}},
          {{"destination", "/sys"},
           {"type", "sysfs"},
           {"source", "sysfs"},
           {"options", {"nosuid", "noexec", "nodev", "ro"}}}}},
        {"linux",
         {{"namespaces",
           {{{"type", "pid"}},
            {{"type", "mount"}},
            {{"type", "ipc"}},
            {{"type", "uts"}},
            {{"type", "network"}, {"path", netns}},
            {{"type", "user"}, {"path", userns_path}}}},
          {"uidMappings", json_map(mappings.uids)},
          {"gidMappings", json_map(mappings.gids)}}}};
    RETURN_IF_ERROR(sys::WriteFileAtomically(real_, bundle.Sub("config.json"),
                                             spec.dump(), 0644));
    sys::Command runc;
    runc.path = "/usr/sbin/runc";
    std::string root = bundle.Sub("state");
    runc.args = {"runc",
                 "--root",
                 root,
                 "run",
                 "--bundle",
                 bundle.path(),
                 absl::StrCat("psb-probe-", ::getpid())};
    runc.env = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin"};
    runc.timeout = absl::Seconds(60);
    ASSIGN_OR_RETURN(sys::SubprocessResult result,
                     sys::RunSubprocess(real_, runc));
    if (!result.success()) {
      return absl::InternalError(
          absl::StrCat("runc run: ", sys::DescribeExit(result), ": ",
                       result.stderr_data, result.stdout_data));
    }
    return result.stdout_data;
  }
};

TEST_F(RuncJoinTest, ContainerJoiningPinsMountsSysfs) {
  ASSERT_OK_AND_ASSIGN(PinnedNamespaces ns, factory_.Create("pod", &kOneRange));
  absl::Cleanup remove = [&] { EXPECT_OK(factory_.Remove("pod")); };
  ASSERT_OK_AND_ASSIGN(std::string out,
                       RunProbe(ns.netns, ns.userns, kOneRange));
  EXPECT_THAT(out, HasSubstr("sysfs at /sys"));
  EXPECT_THAT(out, HasSubstr("0     100000      65536"));
}

// The failure this library exists to prevent. runc joins the user namespace
// first; from inside it, a netns owned by the host's user namespace cannot
// even be joined (EPERM), let alone get a sysfs mount.
TEST_F(RuncJoinTest, NetnsOwnedByTheHostCannotMountSysfs) {
  ASSERT_OK_AND_ASSIGN(PinnedNamespaces host_net,
                       factory_.Create("hostnet", nullptr));
  ASSERT_OK_AND_ASSIGN(PinnedNamespaces pod,
                       factory_.Create("pod", &kOneRange));
  absl::Cleanup remove = [&] {
    EXPECT_OK(factory_.Remove("hostnet"));
    EXPECT_OK(factory_.Remove("pod"));
  };
  absl::StatusOr<std::string> out =
      RunProbe(host_net.netns, pod.userns, kOneRange);
  ASSERT_FALSE(out.ok()) << *out;
  EXPECT_THAT(std::string(out.status().message()),
              HasSubstr("setns into net namespace: Operation not permitted"));
}

}  // namespace
}  // namespace podsandbox::netns
