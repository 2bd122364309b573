// Containers of a pod without a pause (infra = "none") through the real
// podsandboxd's CRI socket: a user-namespaced pod on the fixture's
// "nopause" handler has no process, only pins; a busybox container
// (image/testing's builder, pushed to a TestRegistry, pulled by the daemon)
// must join those pins for net, UTS and IPC (cri/pod_context.cc), not a
// pause's /proc/<pid>/ns, and see the pod's hostname. Compared by the
// namespace inodes of /proc/<container pid>/ns/* and of the pins. The
// fixture's leak check proves nothing is left after Remove. Needs root.
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "cri/api.grpc.pb.h"
#include "cri/testing/container_fixture.h"
#include "cri/testing/podsandboxd_fixture.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace podsandbox::cri {
namespace {

namespace v1 = ::runtime::v1;
using json = nlohmann::json;

constexpr uint32_t kHostBase = 600000;
constexpr char kHostname[] = "nopause-web";

PodsandboxdTestBase::Options FixtureOptions() {
  PodsandboxdTestBase::Options options;
  options.bridge = "psbnpctr0";
  options.subnet = "10.248.0.0/24";
  options.network_name = "psb-nopause-container-test";
  options.no_pause_handler = true;
  return options;
}

// A pod that needs no pause: its own netns and IPC namespace, a PID
// namespace per container (kubelet's default), no sysctls.
v1::PodSandboxConfig NoPausePod() {
  v1::PodSandboxConfig config = UsernsPodConfig("web", kHostBase);
  config.mutable_metadata()->set_uid("uid-nopause-web");
  config.set_hostname(kHostname);
  config.mutable_linux()
      ->mutable_security_context()
      ->mutable_namespace_options()
      ->set_pid(v1::CONTAINER);
  return config;
}

// The inode of the namespace at `path`; 0 if it cannot be read.
ino_t InodeOf(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

class NoPauseContainerTest : public ContainerTestBase {
 protected:
  NoPauseContainerTest() : ContainerTestBase(FixtureOptions()) {}

  // The verbose "info" of a pod's or a container's status.
  json PodInfo(const std::string& id) {
    v1::PodSandboxStatusRequest request;
    request.set_pod_sandbox_id(id);
    request.set_verbose(true);
    v1::PodSandboxStatusResponse response;
    grpc::Status s = runtime_service().PodSandboxStatus(RpcContext().get(),
                                                        request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    auto it = response.info().find("info");
    return it == response.info().end()
               ? json()
               : json::parse(it->second, nullptr, /*allow_exceptions=*/false);
  }

  v1::ContainerStatus ContainerStatus(const std::string& id, json* info) {
    v1::ContainerStatusRequest request;
    request.set_container_id(id);
    request.set_verbose(true);
    v1::ContainerStatusResponse response;
    grpc::Status s = runtime_service().ContainerStatus(RpcContext().get(),
                                                       request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    auto it = response.info().find("info");
    *info = it == response.info().end()
                ? json()
                : json::parse(it->second, nullptr, /*allow_exceptions=*/false);
    return response.status();
  }
};

TEST_F(NoPauseContainerTest, ContainerJoinsThePodsPins) {
  ASSERT_NO_FATAL_FAILURE(StartDaemonWithImage());
  const v1::PodSandboxConfig pod = NoPausePod();
  v1::RunPodSandboxRequest run;
  *run.mutable_config() = pod;
  run.set_runtime_handler("nopause");
  v1::RunPodSandboxResponse ran;
  grpc::Status s =
      runtime_service().RunPodSandbox(RpcContext().get(), run, &ran);
  ASSERT_TRUE(s.ok()) << s.error_message();
  const std::string pod_id = ran.pod_sandbox_id();

  // The pod really has no pause: its namespaces are pins.
  json pod_info = PodInfo(pod_id);
  ASSERT_TRUE(pod_info.is_object()) << pod_info.dump();
  ASSERT_EQ(pod_info.value("infra", ""), "none") << pod_info.dump();
  ASSERT_FALSE(pod_info.contains("pid")) << pod_info.dump();
  const std::string pins[] = {
      pod_info.value("netNamespacePath", ""),
      pod_info.value("utsNamespacePath", ""),
      pod_info.value("ipcNamespacePath", ""),
      pod_info["userNamespace"].value("path", ""),
  };
  const char* types[] = {"net", "uts", "ipc", "user"};
  for (int i = 0; i < 4; ++i) {
    ASSERT_NE(InodeOf(pins[i]), 0u) << types[i] << " pin " << pins[i];
  }

  v1::CreateContainerRequest create =
      ShellContainer(pod_id, pod, "sleeper", "sleep 1000");
  // The pod has no log directory, so no log.
  create.mutable_config()->clear_log_path();
  v1::CreateContainerResponse created;
  s = runtime_service().CreateContainer(RpcContext().get(), create, &created);
  ASSERT_TRUE(s.ok()) << s.error_message() << "\n" << DaemonLog();
  const std::string id = created.container_id();
  v1::StartContainerRequest start;
  start.set_container_id(id);
  v1::StartContainerResponse started;
  s = runtime_service().StartContainer(RpcContext().get(), start, &started);
  ASSERT_TRUE(s.ok()) << s.error_message() << "\n" << DaemonLog();

  json info;
  EXPECT_EQ(ContainerStatus(id, &info).state(), v1::CONTAINER_RUNNING);
  const int pid = info.value("pid", 0);
  ASSERT_GT(pid, 0) << info.dump();
  // Its net, UTS, IPC and user namespaces are the pod's pins.
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(InodeOf(absl::StrCat("/proc/", pid, "/ns/", types[i])),
              InodeOf(pins[i]))
        << types[i];
  }
  // Not the host's, either (a pin could only be the host's by a bug).
  EXPECT_NE(InodeOf(absl::StrCat("/proc/", pid, "/ns/uts")),
            InodeOf("/proc/self/ns/uts"));
  EXPECT_NE(InodeOf(absl::StrCat("/proc/", pid, "/ns/ipc")),
            InodeOf("/proc/self/ns/ipc"));

  // The kernel's hostname in the container is the one set in the pin.
  v1::ExecSyncRequest exec;
  exec.set_container_id(id);
  for (const char* arg : {"/bin/busybox", "uname", "-n"}) exec.add_cmd(arg);
  exec.set_timeout(20);
  v1::ExecSyncResponse out;
  s = runtime_service().ExecSync(RpcContext().get(), exec, &out);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(out.exit_code(), 0) << out.stderr();
  EXPECT_EQ(out.stdout(), absl::StrCat(kHostname, "\n"));

  // Stop and Remove of the pod take the container along; nothing is left
  // (the fixture's leak check), the image then removable.
  EXPECT_TRUE(StopPod(pod_id).ok());
  EXPECT_TRUE(RemovePod(pod_id).ok());
  v1::ListContainersResponse listed;
  ASSERT_TRUE(
      runtime_service().ListContainers(RpcContext().get(), {}, &listed).ok());
  EXPECT_EQ(listed.containers_size(), 0);
  grpc::Status rm = RemoveImage();
  EXPECT_TRUE(rm.ok()) << rm.error_message();
}

}  // namespace
}  // namespace podsandbox::cri
