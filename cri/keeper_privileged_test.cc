// Exits and last output of containers across a SIGKILL of podsandboxd,
// end to end through the real daemon and its podsandbox-keeper (issue 16:
// "an exit that happens while the daemon is down is reported with its real
// exit code after the restart"): one container exits 7 while the daemon is
// down, right after writing its last line; another, re-attached after the
// restart (no longer the daemon's child), exits 5 later. Both codes are
// real and the last line is in the log. A keeper killed under the running
// daemon is replaced at its next use. Without a keeper the daemon runs as
// before (255, Unknown). A hung keeper delays no exit. The fixture's leak check
// includes the keeper process: it must have exited, idle, by the end of each
// test.
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "cri/api.grpc.pb.h"
#include "cri/testing/container_fixture.h"
#include "cri/testing/podsandboxd_fixture.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sys/unique_fd.h"

namespace podsandbox::cri {
namespace {

namespace v1 = ::runtime::v1;

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr uint32_t kHostBase = 410000;

PodsandboxdTestBase::Options FixtureOptions(
    std::vector<std::string> extra_args) {
  PodsandboxdTestBase::Options options;
  options.bridge = "psbkeep0";
  options.subnet = "10.236.0.0/24";
  options.network_name = "psb-keeper-test";
  options.extra_daemon_args = std::move(extra_args);
  return options;
}

// Waits in the container until the test creates /go in its rootfs, then
// writes its last line and exits with `code`.
std::string ExitOnGo(int code) {
  return absl::StrCat(
      "echo started; until [ -e /go ]; do busybox usleep 10000; done; "
      "echo last line; exit ",
      code);
}

class KeeperTestBase : public ContainerTestBase {
 protected:
  using ContainerTestBase::ContainerTestBase;

  void StartPod(v1::PodSandboxConfig* pod, std::string* pod_id) {
    ASSERT_NO_FATAL_FAILURE(StartDaemonWithImage());
    const std::string logs = base().Sub("logs");
    ASSERT_EQ(::mkdir(logs.c_str(), 0755), 0);
    *pod = UsernsPodConfig("keep", kHostBase);
    pod->set_log_directory(logs);
    v1::RunPodSandboxRequest request;
    *request.mutable_config() = *pod;
    v1::RunPodSandboxResponse response;
    grpc::Status s =
        runtime_service().RunPodSandbox(RpcContext().get(), request, &response);
    ASSERT_TRUE(s.ok()) << s.error_message() << "\n" << DaemonLog();
    *pod_id = response.pod_sandbox_id();
  }

  // Creates and starts container `name` running ExitOnGo(code), and waits
  // for its "started".
  void Run(const std::string& pod_id, const v1::PodSandboxConfig& pod,
           const std::string& name, int code, std::string* id) {
    v1::CreateContainerResponse created;
    grpc::Status s = runtime_service().CreateContainer(
        RpcContext().get(), ShellContainer(pod_id, pod, name, ExitOnGo(code)),
        &created);
    ASSERT_TRUE(s.ok()) << s.error_message() << "\n" << DaemonLog();
    *id = created.container_id();
    v1::StartContainerRequest start;
    start.set_container_id(*id);
    v1::StartContainerResponse started;
    s = runtime_service().StartContainer(RpcContext().get(), start, &started);
    ASSERT_TRUE(s.ok()) << s.error_message();
    absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (absl::Now() < deadline &&
           !absl::StrContains(ReadAll(LogPath(pod, name)), "started")) {
      absl::SleepFor(absl::Milliseconds(10));
    }
    ASSERT_THAT(ReadAll(LogPath(pod, name)), HasSubstr("stdout F started"));
  }

  std::string LogPath(const v1::PodSandboxConfig& pod,
                      const std::string& name) {
    return absl::StrCat(pod.log_directory(), "/", name, "/0.log");
  }

  // A pidfd of container `id`'s init (it is not ours to wait for).
  sys::UniqueFd InitPidfd(const std::string& id) {
    int pid = 0;
    EXPECT_TRUE(absl::SimpleAtoi(
        ReadAll(absl::StrCat(state(), "/containers/", id, "/init.pid")), &pid));
    return sys::UniqueFd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  }

  // Lets container `id` go on to its last line and exit, and waits until
  // its init has exited.
  void Go(const std::string& id, const sys::UniqueFd& pidfd) {
    ASSERT_GE(pidfd.get(), 0);
    const std::string go =
        absl::StrCat(state(), "/containers/", id, "/rootfs/go");
    sys::UniqueFd file(
        ::open(go.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
    ASSERT_GE(file.get(), 0) << go;
    struct pollfd p = {pidfd.get(), POLLIN, 0};
    ASSERT_EQ(::poll(&p, 1, 30000), 1) << "container " << id << " runs on";
  }

  // The pid of the keeper serving this daemon's state dir, or 0.
  pid_t KeeperPid() {
    const std::string want = absl::StrCat("--socket", std::string(1, '\0'),
                                          state(), "/keeper/keeper.sock");
    std::unique_ptr<DIR, int (*)(DIR*)> proc(::opendir("/proc"), ::closedir);
    while (struct dirent* e = ::readdir(proc.get())) {
      pid_t pid = 0;
      if (!absl::SimpleAtoi(e->d_name, &pid)) continue;
      if (absl::StrContains(ReadAll(absl::StrCat("/proc/", pid, "/cmdline")),
                            want)) {
        return pid;
      }
    }
    return 0;
  }

  v1::ContainerStatus Status(const std::string& id) {
    v1::ContainerStatusRequest request;
    request.set_container_id(id);
    v1::ContainerStatusResponse response;
    grpc::Status s = runtime_service().ContainerStatus(RpcContext().get(),
                                                       request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return response.status();
  }
};

class KeeperTest : public KeeperTestBase {
 protected:
  KeeperTest() : KeeperTestBase(FixtureOptions({})) {}
};

TEST_F(KeeperTest, ExitsWhileAndAfterTheDaemonIsDownKeepCodesAndLastOutput) {
  v1::PodSandboxConfig pod;
  std::string pod_id, during, after;
  ASSERT_NO_FATAL_FAILURE(StartPod(&pod, &pod_id));
  ASSERT_NO_FATAL_FAILURE(Run(pod_id, pod, "during", 7, &during));
  ASSERT_NO_FATAL_FAILURE(Run(pod_id, pod, "after", 5, &after));
  sys::UniqueFd during_init = InitPidfd(during);
  sys::UniqueFd after_init = InitPidfd(after);

  CloseClient();
  StopDaemon(SIGKILL);
  // Nobody relays and nobody waits: the last line goes into the FIFO, the
  // exit to whoever adopted the init (not the daemon, which is gone).
  ASSERT_NO_FATAL_FAILURE(Go(during, during_init));
  ASSERT_NO_FATAL_FAILURE(StartDaemon());

  v1::ContainerStatus status = WaitForExited(during);
  ASSERT_EQ(status.state(), v1::CONTAINER_EXITED) << DaemonLog();
  EXPECT_EQ(status.exit_code(), 7) << status.message();
  EXPECT_EQ(status.reason(), "Error");
  EXPECT_THAT(LogLines(LogPath(pod, "during")), Contains("stdout F last line"))
      << ReadAll(LogPath(pod, "during"));

  // Re-attached, and not the restarted daemon's child.
  EXPECT_EQ(Status(after).state(), v1::CONTAINER_RUNNING);
  ASSERT_NO_FATAL_FAILURE(Go(after, after_init));
  status = WaitForExited(after);
  ASSERT_EQ(status.state(), v1::CONTAINER_EXITED);
  EXPECT_EQ(status.exit_code(), 5) << status.message();
  EXPECT_EQ(status.reason(), "Error");
  EXPECT_THAT(LogLines(LogPath(pod, "after")), Contains("stdout F last line"));
  // Removing the pod removes its containers (the keeper lets go of both);
  // TearDown stops the daemon, and the leak check waits for the idle
  // keeper to be gone.
  EXPECT_TRUE(StopPod(pod_id).ok());
  EXPECT_TRUE(RemovePod(pod_id).ok());
  EXPECT_TRUE(RemoveImage().ok());
}

// The keeper SIGKILLed while the daemon runs: what it held is lost (a
// container it held that exits while the daemon is down is unknown, as
// without a keeper), but the next create finds the connection gone,
// starts a new keeper (logged) and is held by it: that container's exit
// while the daemon is down keeps its real code and last output. No crash
// anywhere.
TEST_F(KeeperTest, KeeperKilledWhileTheDaemonRunsIsReplacedByTheNextCreate) {
  v1::PodSandboxConfig pod;
  std::string pod_id, before, after;
  ASSERT_NO_FATAL_FAILURE(StartPod(&pod, &pod_id));
  ASSERT_NO_FATAL_FAILURE(Run(pod_id, pod, "before", 7, &before));
  const pid_t keeper = KeeperPid();
  ASSERT_GT(keeper, 0);
  {
    sys::UniqueFd keeper_fd(
        static_cast<int>(::syscall(SYS_pidfd_open, keeper, 0)));
    ASSERT_GE(keeper_fd.get(), 0);
    ASSERT_EQ(
        ::syscall(SYS_pidfd_send_signal, keeper_fd.get(), SIGKILL, nullptr, 0),
        0);
    struct pollfd p = {keeper_fd.get(), POLLIN, 0};
    ASSERT_EQ(::poll(&p, 1, 30000), 1);
  }
  ASSERT_NO_FATAL_FAILURE(Run(pod_id, pod, "after", 4, &after));
  EXPECT_THAT(DaemonLog(), HasSubstr("keeper: reconnected"));
  EXPECT_THAT(DaemonLog(), Not(HasSubstr("keeper holds nothing for it")));
  const pid_t new_keeper = KeeperPid();
  EXPECT_GT(new_keeper, 0);
  EXPECT_NE(new_keeper, keeper);

  sys::UniqueFd before_init = InitPidfd(before);
  sys::UniqueFd after_init = InitPidfd(after);
  CloseClient();
  StopDaemon(SIGKILL);
  ASSERT_NO_FATAL_FAILURE(Go(before, before_init));
  ASSERT_NO_FATAL_FAILURE(Go(after, after_init));
  ASSERT_NO_FATAL_FAILURE(StartDaemon());
  EXPECT_EQ(KeeperPid(), new_keeper);  // the restart found it
  v1::ContainerStatus status = WaitForExited(before);
  ASSERT_EQ(status.state(), v1::CONTAINER_EXITED) << DaemonLog();
  EXPECT_EQ(status.exit_code(), 255);
  EXPECT_EQ(status.reason(), "Unknown");
  status = WaitForExited(after);
  ASSERT_EQ(status.state(), v1::CONTAINER_EXITED) << DaemonLog();
  EXPECT_EQ(status.exit_code(), 4) << status.message();
  EXPECT_EQ(status.reason(), "Error");
  EXPECT_THAT(LogLines(LogPath(pod, "after")), Contains("stdout F last line"))
      << ReadAll(LogPath(pod, "after"));
  EXPECT_TRUE(StopPod(pod_id).ok());
  EXPECT_TRUE(RemovePod(pod_id).ok());
  EXPECT_TRUE(RemoveImage().ok());
}

// A hung keeper (SIGSTOPped) holds up no exit: each exit's drop is queued
// for a thread of the manager, off the exit watcher's one thread. Three
// containers exiting together are all recorded, real codes, while the
// keeper is still stopped. (Before, each drop waited out the client's 5 s
// reply timeout on that thread: the third exit came ~10 s late, past the
// deadline below.) The drops did meet the hung keeper (logged), and once
// it runs again the pod is removed and the keeper leaves, idle.
TEST_F(KeeperTest, AHungKeeperHoldsUpNoExit) {
  v1::PodSandboxConfig pod;
  std::string pod_id;
  ASSERT_NO_FATAL_FAILURE(StartPod(&pod, &pod_id));
  std::vector<std::string> ids(3);
  std::vector<sys::UniqueFd> inits;
  for (int i = 0; i < 3; ++i) {
    ASSERT_NO_FATAL_FAILURE(
        Run(pod_id, pod, absl::StrCat("c", i), 1 + i, &ids[i]));
    inits.push_back(InitPidfd(ids[i]));
  }
  const pid_t keeper = KeeperPid();
  ASSERT_GT(keeper, 0);
  sys::UniqueFd keeper_fd(
      static_cast<int>(::syscall(SYS_pidfd_open, keeper, 0)));
  ASSERT_GE(keeper_fd.get(), 0);
  auto signal_keeper = [&keeper_fd](int signal) {
    return ::syscall(SYS_pidfd_send_signal, keeper_fd.get(), signal, nullptr,
                     0) == 0;
  };
  auto keeper_stopped = [keeper] {
    const std::string stat = ReadAll(absl::StrCat("/proc/", keeper, "/stat"));
    const size_t paren = stat.rfind(") ");
    return paren != std::string::npos && paren + 2 < stat.size() &&
           stat[paren + 2] == 'T';
  };
  ASSERT_TRUE(signal_keeper(SIGSTOP));
  // Whatever fails below, the keeper must run again to leave.
  absl::Cleanup resume = [&] { signal_keeper(SIGCONT); };
  absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (!keeper_stopped() && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  ASSERT_TRUE(keeper_stopped());
  for (int i = 0; i < 3; ++i) {
    ASSERT_NO_FATAL_FAILURE(Go(ids[i], inits[i]));
  }
  // Generous for an idle machine, short of two reply timeouts.
  deadline = absl::Now() + absl::Seconds(8);
  std::vector<v1::ContainerStatus> statuses(3);
  for (int i = 0; i < 3; ++i) {
    statuses[i] = Status(ids[i]);
    while (statuses[i].state() != v1::CONTAINER_EXITED &&
           absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(10));
      statuses[i] = Status(ids[i]);
    }
  }
  EXPECT_TRUE(keeper_stopped()) << "the keeper ran meanwhile";
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(statuses[i].state(), v1::CONTAINER_EXITED) << "c" << i;
    EXPECT_EQ(statuses[i].exit_code(), 1 + i) << "c" << i;
  }
  // The queued drops met the hung keeper (a reply timeout, logged).
  deadline = absl::Now() + absl::Seconds(30);
  while (!absl::StrContains(DaemonLog(), "keeper drop:") &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_THAT(DaemonLog(), HasSubstr("keeper drop:"));
  std::move(resume).Invoke();
  EXPECT_TRUE(StopPod(pod_id).ok());
  EXPECT_TRUE(RemovePod(pod_id).ok());
  EXPECT_TRUE(RemoveImage().ok());
}

// No keeper (its binary missing): the daemon says so and runs as before; an
// exit while it is down is reported unknown, with no crash.
class NoKeeperTest : public KeeperTestBase {
 protected:
  NoKeeperTest()
      : KeeperTestBase(FixtureOptions(
            {"--keeper-binary", "/nonexistent/podsandbox-keeper"})) {}
};

TEST_F(NoKeeperTest, ExitWhileTheDaemonIsDownIsUnknown) {
  v1::PodSandboxConfig pod;
  std::string pod_id, during;
  ASSERT_NO_FATAL_FAILURE(StartPod(&pod, &pod_id));
  EXPECT_THAT(DaemonLog(), HasSubstr("keeper unavailable"));
  ASSERT_NO_FATAL_FAILURE(Run(pod_id, pod, "during", 7, &during));
  sys::UniqueFd during_init = InitPidfd(during);
  CloseClient();
  StopDaemon(SIGKILL);
  ASSERT_NO_FATAL_FAILURE(Go(during, during_init));
  ASSERT_NO_FATAL_FAILURE(StartDaemon());
  v1::ContainerStatus status = WaitForExited(during);
  ASSERT_EQ(status.state(), v1::CONTAINER_EXITED) << DaemonLog();
  EXPECT_EQ(status.exit_code(), 255);
  EXPECT_EQ(status.reason(), "Unknown");
  EXPECT_TRUE(StopPod(pod_id).ok());
  EXPECT_TRUE(RemovePod(pod_id).ok());
  EXPECT_TRUE(RemoveImage().ok());
}

}  // namespace
}  // namespace podsandbox::cri
