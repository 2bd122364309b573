// The container RPCs end to end through the real podsandboxd's CRI socket:
// a busybox image built by image/testing's builder, pushed to a real
// registry and pulled by the daemon; a user-namespaced pod; containers
// created, started, logged, exec'd, listed, stopped and removed; then the
// pod and the image. The fixture's leak check proves nothing is left
// (mounts, dirs, FIFOs, runtime state, cgroups, processes).
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

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

namespace podsandbox::cri {
namespace {

namespace v1 = ::runtime::v1;

using ::testing::Contains;
using ::testing::HasSubstr;

constexpr uint32_t kHostBase = 400000;

PodsandboxdTestBase::Options FixtureOptions() {
  PodsandboxdTestBase::Options options;
  options.bridge = "psbctr0";
  options.subnet = "10.243.0.0/24";
  options.network_name = "psb-container-test";
  return options;
}

v1::PodSandboxConfig UsernsPod(const std::string& log_directory) {
  v1::PodSandboxConfig config = UsernsPodConfig("web", kHostBase);
  config.set_log_directory(log_directory);
  return config;
}

class ContainerRpcTest : public ContainerTestBase {
 protected:
  ContainerRpcTest() : ContainerTestBase(FixtureOptions()) {}

  // How most tests here begin: the daemon started with the image pulled,
  // and a user-namespaced pod (UsernsPod, logging under base()/logs) run.
  void StartPodWithImage(v1::PodSandboxConfig* pod, std::string* pod_id) {
    ASSERT_NO_FATAL_FAILURE(StartDaemonWithImage());
    const std::string logs = base().Sub("logs");
    ASSERT_EQ(::mkdir(logs.c_str(), 0755), 0);
    *pod = UsernsPod(logs);
    *pod_id = RunPod(*pod);
    ASSERT_FALSE(pod_id->empty()) << DaemonLog();
  }

  std::string RunPod(const v1::PodSandboxConfig& pod) {
    v1::RunPodSandboxRequest request;
    *request.mutable_config() = pod;
    v1::RunPodSandboxResponse response;
    grpc::Status s =
        runtime_service().RunPodSandbox(RpcContext().get(), request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return response.pod_sandbox_id();
  }

  grpc::Status Create(const std::string& pod_id,
                      const v1::PodSandboxConfig& pod, const std::string& name,
                      const std::string& script, std::string* id) {
    v1::CreateContainerRequest request =
        ShellContainer(pod_id, pod, name, script);
    (*request.mutable_config()->mutable_labels())["app"] = name;
    v1::CreateContainerResponse response;
    grpc::Status s = runtime_service().CreateContainer(RpcContext().get(),
                                                       request, &response);
    *id = response.container_id();
    return s;
  }

  grpc::Status Start(const std::string& id) {
    v1::StartContainerRequest request;
    request.set_container_id(id);
    v1::StartContainerResponse response;
    return runtime_service().StartContainer(RpcContext().get(), request,
                                            &response);
  }

  v1::ContainerStatus Status(const std::string& id) {
    v1::ContainerStatusRequest request;
    request.set_container_id(id);
    request.set_verbose(true);
    v1::ContainerStatusResponse response;
    grpc::Status s = runtime_service().ContainerStatus(RpcContext().get(),
                                                       request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return response.status();
  }
};

TEST_F(ContainerRpcTest, UserNamespacedBusyboxLivesAndDiesThroughTheSocket) {
  v1::PodSandboxConfig pod;
  std::string pod_id;
  ASSERT_NO_FATAL_FAILURE(StartPodWithImage(&pod, &pod_id));
  const std::string logs = pod.log_directory();

  // One that writes and exits 3; one that sleeps.
  std::string once, sleeper;
  grpc::Status s = Create(pod_id, pod, "once",
                          "echo out; echo err >&2; cat /proc/self/uid_map; "
                          "busybox stat -c %u /bin/busybox; "
                          "cat /sys/class/net/eth0/ifindex >/dev/null && "
                          "echo sysfs-ok; exit 3",
                          &once);
  ASSERT_TRUE(s.ok()) << s.error_message() << "\n" << DaemonLog();
  ASSERT_TRUE(Create(pod_id, pod, "sleeper", "sleep 1000", &sleeper).ok());
  EXPECT_EQ(Status(once).state(), v1::CONTAINER_CREATED);
  ASSERT_TRUE(Start(once).ok());
  ASSERT_TRUE(Start(sleeper).ok());

  ASSERT_EQ(WaitForExited(once).state(), v1::CONTAINER_EXITED);
  v1::ContainerStatus exited = Status(once);
  EXPECT_EQ(exited.exit_code(), 3);
  EXPECT_EQ(exited.reason(), "Error");
  EXPECT_GT(exited.finished_at(), 0);
  EXPECT_EQ(exited.image_id(), image_id_);
  EXPECT_EQ(exited.log_path(), logs + "/once/0.log");
  std::vector<std::string> lines = LogLines(exited.log_path());
  EXPECT_THAT(lines, Contains("stdout F out"));
  EXPECT_THAT(lines, Contains("stderr F err"));
  EXPECT_THAT(lines, Contains(absl::StrCat("stdout F          0     ",
                                           kHostBase, "      65536")));
  EXPECT_THAT(lines, Contains("stdout F 0")) << "image files owned by root";
  // /sys is the pod's netns's sysfs (eth0 exists only there), which only
  // the netns's owner, the pod's user namespace, may mount.
  EXPECT_THAT(lines, Contains("stdout F sysfs-ok"));

  // List (with filters) and stats answer.
  v1::ListContainersRequest list;
  list.mutable_filter()->set_pod_sandbox_id(pod_id);
  v1::ListContainersResponse listed;
  ASSERT_TRUE(
      runtime_service().ListContainers(RpcContext().get(), list, &listed).ok());
  EXPECT_EQ(listed.containers_size(), 2);
  list.mutable_filter()->mutable_state()->set_state(v1::CONTAINER_RUNNING);
  ASSERT_TRUE(
      runtime_service().ListContainers(RpcContext().get(), list, &listed).ok());
  ASSERT_EQ(listed.containers_size(), 1);
  EXPECT_EQ(listed.containers(0).id(), sleeper);
  v1::ListContainerStatsResponse stats;
  ASSERT_TRUE(runtime_service()
                  .ListContainerStats(RpcContext().get(), {}, &stats)
                  .ok());
  EXPECT_EQ(stats.stats_size(), 2);
  v1::PodSandboxStatsRequest pod_stats_request;
  pod_stats_request.set_pod_sandbox_id(pod_id);
  v1::PodSandboxStatsResponse pod_stats;
  s = runtime_service().PodSandboxStats(RpcContext().get(), pod_stats_request,
                                        &pod_stats);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(pod_stats.stats().attributes().id(), pod_id);
  EXPECT_EQ(pod_stats.stats().linux().containers_size(), 2);
  EXPECT_EQ(pod_stats.stats().linux().network().default_interface().name(),
            "eth0");
  EXPECT_GT(pod_stats.stats().linux().memory().working_set_bytes().value(), 0u);
  EXPECT_GE(pod_stats.stats().linux().process().process_count().value(), 2u);
  v1::ListPodSandboxStatsResponse all_pod_stats;
  ASSERT_TRUE(runtime_service()
                  .ListPodSandboxStats(RpcContext().get(), {}, &all_pod_stats)
                  .ok());
  EXPECT_EQ(all_pod_stats.stats_size(), 1);

  // ExecSync, with its exit code.
  v1::ExecSyncRequest exec;
  exec.set_container_id(sleeper);
  exec.add_cmd("/bin/sh");
  exec.add_cmd("-c");
  exec.add_cmd("id -u; exit 5");
  exec.set_timeout(20);
  v1::ExecSyncResponse exec_out;
  s = runtime_service().ExecSync(RpcContext().get(), exec, &exec_out);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(exec_out.exit_code(), 5);
  EXPECT_EQ(exec_out.stdout(), "0\n");

  // Two containers of the pod share its network, IPC and UTS namespaces
  // (the pause's), not the host's.
  std::string sleeper2;
  ASSERT_TRUE(Create(pod_id, pod, "sleeper2", "sleep 1000", &sleeper2).ok());
  ASSERT_TRUE(Start(sleeper2).ok());
  std::vector<std::string> namespaces;
  for (const std::string& id : {sleeper, sleeper2}) {
    v1::ExecSyncRequest readlink;
    readlink.set_container_id(id);
    for (const char* arg :
         {"/bin/sh", "-c",
          "for n in net ipc uts; do busybox readlink /proc/self/ns/$n; "
          "done"}) {
      readlink.add_cmd(arg);
    }
    readlink.set_timeout(20);
    v1::ExecSyncResponse out;
    s = runtime_service().ExecSync(RpcContext().get(), readlink, &out);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(out.exit_code(), 0) << out.stderr();
    namespaces.push_back(out.stdout());
  }
  EXPECT_EQ(namespaces[0], namespaces[1]);
  char host_net[64] = {};
  ASSERT_GT(::readlink("/proc/self/ns/net", host_net, sizeof(host_net) - 1), 0);
  EXPECT_THAT(namespaces[0], HasSubstr("net:["));
  EXPECT_THAT(namespaces[0], ::testing::Not(HasSubstr(host_net)));

  // The image is in use: RemoveImage refuses.
  EXPECT_EQ(RemoveImage().error_code(), grpc::StatusCode::FAILED_PRECONDITION);

  // Stop (grace 1 s): the pod's PID namespace is the pause's, so sleep is
  // no namespace init and TERM ends it.
  v1::StopContainerRequest stop;
  stop.set_container_id(sleeper);
  stop.set_timeout(1);
  v1::StopContainerResponse stopped;
  ASSERT_TRUE(
      runtime_service().StopContainer(RpcContext().get(), stop, &stopped).ok());
  EXPECT_EQ(Status(sleeper).state(), v1::CONTAINER_EXITED);
  EXPECT_EQ(Status(sleeper).exit_code(), 128 + SIGTERM);
  // Then remove both.
  for (const std::string& id : {once, sleeper, sleeper2}) {
    v1::RemoveContainerRequest remove;
    remove.set_container_id(id);
    v1::RemoveContainerResponse removed;
    ASSERT_TRUE(runtime_service()
                    .RemoveContainer(RpcContext().get(), remove, &removed)
                    .ok());
  }
  list.clear_filter();
  ASSERT_TRUE(
      runtime_service().ListContainers(RpcContext().get(), list, &listed).ok());
  EXPECT_EQ(listed.containers_size(), 0);
  EXPECT_TRUE(StopPod(pod_id).ok());
  EXPECT_TRUE(RemovePod(pod_id).ok());
  grpc::Status rm = RemoveImage();
  EXPECT_TRUE(rm.ok()) << rm.error_message();
}

TEST_F(ContainerRpcTest, BadRequestsAreRefusedAndRemovePodRemovesContainers) {
  ASSERT_NO_FATAL_FAILURE(StartDaemonWithImage());
  v1::PodSandboxConfig pod = UsernsPod("");
  std::string id;
  // Unknown pod, unknown image: InvalidArgument, nothing made.
  EXPECT_EQ(Create(std::string(64, 'a'), pod, "x", "true", &id).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  const std::string pod_id = RunPod(pod);
  std::string saved = image_;
  image_ = "nosuch/image:1";
  EXPECT_EQ(Create(pod_id, pod, "x", "true", &id).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  image_ = saved;
  // A running container, then RemovePodSandbox takes it along.
  ASSERT_TRUE(Create(pod_id, pod, "x", "sleep 1000", &id).ok());
  ASSERT_TRUE(Start(id).ok());
  EXPECT_EQ(Create(pod_id, pod, "x", "true", &id).error_code(),
            grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_TRUE(StopPod(pod_id).ok());
  // A stopped pod takes no new container.
  EXPECT_EQ(Create(pod_id, pod, "late", "true", &id).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(RemovePod(pod_id).ok());
  v1::ListContainersResponse listed;
  ASSERT_TRUE(
      runtime_service().ListContainers(RpcContext().get(), {}, &listed).ok());
  EXPECT_EQ(listed.containers_size(), 0);
  EXPECT_TRUE(RemoveImage().ok());
}

// A container over its memory limit: the kernel's OOM killer ends it and
// the status says OOMKilled.
TEST_F(ContainerRpcTest, OverTheMemoryLimitIsOomKilled) {
  ASSERT_NO_FATAL_FAILURE(StartDaemonWithImage());
  v1::PodSandboxConfig pod = UsernsPod("");
  const std::string pod_id = RunPod(pod);
  v1::CreateContainerRequest request;
  request.set_pod_sandbox_id(pod_id);
  *request.mutable_sandbox_config() = pod;
  v1::ContainerConfig* c = request.mutable_config();
  c->mutable_metadata()->set_name("hog");
  c->mutable_image()->set_image(image_);
  // dd's one 64 MiB buffer against a 16 MiB limit (swap limited alike).
  c->add_command("/bin/busybox");
  for (const char* arg :
       {"dd", "if=/dev/zero", "of=/dev/null", "bs=64M", "count=1"}) {
    c->add_args(arg);
  }
  c->mutable_linux()->mutable_resources()->set_memory_limit_in_bytes(16 << 20);
  c->mutable_linux()->mutable_resources()->set_memory_swap_limit_in_bytes(
      16 << 20);
  v1::CreateContainerResponse created;
  grpc::Status s =
      runtime_service().CreateContainer(RpcContext().get(), request, &created);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_TRUE(Start(created.container_id()).ok());
  ASSERT_EQ(WaitForExited(created.container_id()).state(),
            v1::CONTAINER_EXITED);
  v1::ContainerStatus status = Status(created.container_id());
  EXPECT_EQ(status.reason(), "OOMKilled");
  EXPECT_EQ(status.exit_code(), 137);
  EXPECT_TRUE(StopPod(pod_id).ok());
  EXPECT_TRUE(RemovePod(pod_id).ok());
  EXPECT_TRUE(RemoveImage().ok());
}

// SIGKILL of the daemon while a container writes nonstop: the container
// lives on (no SIGPIPE: it holds its FIFO read-write), the restarted daemon
// relays what it wrote meanwhile, so its log has every line once and in
// order; a container killed while the daemon is down is reported exited
// with its real status (137, "Error": the keeper held its pidfd, see
// keeper_privileged_test for more); ReopenContainerLog after a rename starts a
// new file and loses nothing either.
TEST_F(ContainerRpcTest, SigkillOfTheDaemonLosesNoLogLine) {
  v1::PodSandboxConfig pod;
  std::string pod_id;
  ASSERT_NO_FATAL_FAILURE(StartPodWithImage(&pod, &pod_id));
  const std::string logs = pod.log_directory();
  std::string counter, brief;
  ASSERT_TRUE(Create(pod_id, pod, "counter",
                     "i=0; while true; do echo $i; i=$((i+1)); "
                     "busybox usleep 2000; done",
                     &counter)
                  .ok());
  ASSERT_TRUE(Create(pod_id, pod, "brief", "sleep 1000", &brief).ok());
  ASSERT_TRUE(Start(counter).ok());
  ASSERT_TRUE(Start(brief).ok());
  const std::string log = logs + "/counter/0.log";
  auto wait_for_lines = [&](size_t n) {
    absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (absl::Now() < deadline && LogLines(log).size() < n) {
      absl::SleepFor(absl::Milliseconds(20));
    }
    return LogLines(log).size();
  };
  ASSERT_GE(wait_for_lines(50), 50u);

  CloseClient();
  StopDaemon(SIGKILL);
  // While it is down, "brief" is killed: only the keeper's pidfd tells how.
  int pid = 0;
  const std::string pid_text =
      ReadAll(absl::StrCat(state(), "/containers/", brief, "/init.pid"));
  const bool killed =
      absl::SimpleAtoi(pid_text, &pid) && ::kill(pid, SIGKILL) == 0;
  ASSERT_NO_FATAL_FAILURE(StartDaemon());
  ASSERT_TRUE(killed) << "init.pid: " << pid_text;
  EXPECT_EQ(Status(counter).state(), v1::CONTAINER_RUNNING);
  ASSERT_EQ(WaitForExited(brief).state(), v1::CONTAINER_EXITED);
  EXPECT_EQ(Status(brief).exit_code(), 137);
  EXPECT_EQ(Status(brief).reason(), "Error");

  size_t seen = LogLines(log).size();
  ASSERT_GE(wait_for_lines(seen + 100), seen + 100);

  // Rotation while it writes: the kubelet renames the file, then asks for a
  // reopen; the lines continue in a new file at the same path.
  const std::string rotated = log + ".1";
  ASSERT_EQ(::rename(log.c_str(), rotated.c_str()), 0);
  v1::ReopenContainerLogRequest reopen;
  reopen.set_container_id(counter);
  v1::ReopenContainerLogResponse reopened;
  grpc::Status s = runtime_service().ReopenContainerLog(RpcContext().get(),
                                                        reopen, &reopened);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_GE(wait_for_lines(20), 20u);

  v1::StopContainerRequest stop;
  stop.set_container_id(counter);
  v1::StopContainerResponse stopped;
  ASSERT_TRUE(
      runtime_service().StopContainer(RpcContext().get(), stop, &stopped).ok());
  // Every number once, in order, across both files: pieces (P) of a line
  // split across reads join the next F.
  std::vector<std::string> lines = LogLines(rotated);
  for (const std::string& line : LogLines(log)) lines.push_back(line);
  std::vector<std::string> whole;
  std::string joined;
  for (const std::string& line : lines) {
    ASSERT_TRUE(absl::StartsWith(line, "stdout ")) << line;
    joined += line.substr(9);
    if (line[7] == 'F') {
      whole.push_back(joined);
      joined.clear();
    }
  }
  ASSERT_GT(whole.size(), 170u);
  for (size_t i = 0; i < whole.size(); ++i) {
    ASSERT_EQ(whole[i], absl::StrCat(i)) << "line " << i;
  }
  // A stopped container's log cannot be reopened.
  EXPECT_EQ(runtime_service()
                .ReopenContainerLog(RpcContext().get(), reopen, &reopened)
                .error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_TRUE(StopPod(pod_id).ok());
  EXPECT_TRUE(RemovePod(pod_id).ok());
  EXPECT_TRUE(RemoveImage().ok());
}

// The pod's /dev/shm is one tmpfs the sandbox mounted (owned by the pod's
// root, so writable inside its user namespace): a file one container
// writes there, the other reads.
TEST_F(ContainerRpcTest, TwoContainersOfAPodShareItsDevShm) {
  v1::PodSandboxConfig pod;
  std::string pod_id;
  ASSERT_NO_FATAL_FAILURE(StartPodWithImage(&pod, &pod_id));

  std::string writer, reader;
  grpc::Status s = Create(pod_id, pod, "writer",
                          "echo shared > /dev/shm/note.tmp && "
                          "mv /dev/shm/note.tmp /dev/shm/note; sleep 1000",
                          &writer);
  ASSERT_TRUE(s.ok()) << s.error_message() << "\n" << DaemonLog();
  ASSERT_TRUE(Create(pod_id, pod, "reader", "sleep 1000", &reader).ok());
  ASSERT_TRUE(Start(writer).ok());
  ASSERT_TRUE(Start(reader).ok());

  // The writer runs on its own: poll the reader until the note appears.
  auto read_note = [&](std::string* out) {
    v1::ExecSyncRequest cat;
    cat.set_container_id(reader);
    for (const char* arg :
         {"/bin/sh", "-c", "cat /dev/shm/note 2>/dev/null; true"}) {
      cat.add_cmd(arg);
    }
    cat.set_timeout(20);
    v1::ExecSyncResponse response;
    grpc::Status st =
        runtime_service().ExecSync(RpcContext().get(), cat, &response);
    *out = response.stdout();
    return st;
  };
  std::string note;
  absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (absl::Now() < deadline) {
    ASSERT_TRUE(read_note(&note).ok());
    if (!note.empty()) break;
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_EQ(note, "shared\n");
  // It is the sandbox's tmpfs, owned by the pod's root on the host.
  struct stat st;
  const std::string on_host = absl::StrCat(state(), "/shm/", pod_id, "/note");
  ASSERT_EQ(::stat(on_host.c_str(), &st), 0) << on_host;
  EXPECT_EQ(st.st_uid, kHostBase);

  EXPECT_TRUE(StopPod(pod_id).ok());
  EXPECT_TRUE(RemovePod(pod_id).ok());
  EXPECT_NE(::access(on_host.c_str(), F_OK), 0);
  EXPECT_TRUE(RemoveImage().ok());
}

// A pod in the host's IPC namespace starts, and so does its container,
// on a host with no /dev/mqueue mounted too (oci::KernelMounts binds the
// host's only when it is an mqueue mount): the container is in the host's
// IPC namespace and has the host's /dev/shm.
TEST_F(ContainerRpcTest, HostIpcPodAndItsContainerStart) {
  ASSERT_NO_FATAL_FAILURE(StartDaemonWithImage());
  const std::string logs = base().Sub("logs");
  ASSERT_EQ(::mkdir(logs.c_str(), 0755), 0);
  v1::PodSandboxConfig pod;
  pod.mutable_metadata()->set_name("hostipc");
  pod.mutable_metadata()->set_namespace_("test");
  pod.mutable_metadata()->set_uid("uid-hostipc");
  pod.set_hostname("hostipc");
  pod.set_log_directory(logs);
  pod.mutable_linux()
      ->mutable_security_context()
      ->mutable_namespace_options()
      ->set_ipc(v1::NODE);
  const std::string pod_id = RunPod(pod);
  ASSERT_FALSE(pod_id.empty()) << DaemonLog();

  std::string once;
  grpc::Status s = Create(pod_id, pod, "once",
                          "busybox readlink /proc/self/ns/ipc; "
                          "test -d /dev/shm && echo shm-ok",
                          &once);
  ASSERT_TRUE(s.ok()) << s.error_message() << "\n" << DaemonLog();
  s = Start(once);
  ASSERT_TRUE(s.ok()) << s.error_message() << "\n" << DaemonLog();
  ASSERT_EQ(WaitForExited(once).state(), v1::CONTAINER_EXITED);
  EXPECT_EQ(Status(once).exit_code(), 0);
  char host_ipc[64] = {};
  ASSERT_GT(::readlink("/proc/self/ns/ipc", host_ipc, sizeof(host_ipc) - 1), 0);
  std::vector<std::string> lines = LogLines(Status(once).log_path());
  EXPECT_THAT(lines, Contains(absl::StrCat("stdout F ", host_ipc)));
  EXPECT_THAT(lines, Contains("stdout F shm-ok"));
  EXPECT_TRUE(StopPod(pod_id).ok());
  EXPECT_TRUE(RemovePod(pod_id).ok());
  EXPECT_TRUE(RemoveImage().ok());
}

}  // namespace
}  // namespace podsandbox::cri
