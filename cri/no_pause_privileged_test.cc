// podsandboxd end to end with a pod without a pause: a handler with
// infra = "none" (the fixture's "nopause", runc for pods that still need a
// pause) and a pod that needs none (its own netns and IPC namespace, PID
// namespace per container as kubelet asks, no sysctls). Over the real
// socket: RunPodSandbox, Status (no pid; the pins in the verbose info),
// List, Stop and Remove, with a SIGKILL of the daemon and a restart (its
// recovery) while the pod is READY and again once it is stopped. No
// process of ours or the daemon's is in the pod's namespaces at any point;
// after Remove the fixture's leak check finds nothing (the uts and ipc
// pins included). Needs root.
#include <linux/magic.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "cri/api.grpc.pb.h"
#include "cri/api.pb.h"
#include "cri/testing/podsandboxd_fixture.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "sys/file.h"

namespace podsandbox::cri {
namespace {

namespace v1 = ::runtime::v1;
using json = nlohmann::json;

constexpr char kBridge[] = "psbnopause0";
constexpr char kSubnetPrefix[] = "10.249.0.";

PodsandboxdTestBase::Options FixtureOptions() {
  PodsandboxdTestBase::Options options;
  options.bridge = kBridge;
  options.subnet = absl::StrCat(kSubnetPrefix, "0/24");
  options.network_name = "psb-nopause-test";
  options.no_pause_handler = true;
  return options;
}

// Whether `path` is a pinned namespace (an nsfs file) right now.
bool IsPin(const std::string& path) {
  struct statfs fs;
  return statfs(path.c_str(), &fs) == 0 &&
         static_cast<unsigned long>(fs.f_type) == NSFS_MAGIC;
}

// The inode of the namespace at `path`; 0 if it cannot be read.
ino_t InodeOf(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

// Pids of every process whose namespace `type` has inode `inode`.
std::vector<std::string> ProcessesIn(const char* type, ino_t inode) {
  std::vector<std::string> out;
  if (inode == 0) return {"(namespace unreadable)"};
  absl::StatusOr<std::vector<std::string>> entries = sys::ListDir("/proc");
  if (!entries.ok()) return {entries.status().ToString()};
  for (const std::string& pid : *entries) {
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    if (InodeOf(absl::StrCat("/proc/", pid, "/ns/", type)) == inode) {
      out.push_back(pid);
    }
  }
  return out;
}

class NoPauseTest : public PodsandboxdTestBase {
 protected:
  NoPauseTest() : PodsandboxdTestBase(FixtureOptions()) {}

  static v1::PodSandboxConfig PodConfig() {
    v1::PodSandboxConfig config;
    config.mutable_metadata()->set_name("nopause");
    config.mutable_metadata()->set_namespace_("test");
    config.mutable_metadata()->set_uid("uid-nopause");
    config.set_hostname("nopause-host");
    v1::NamespaceOption* ns = config.mutable_linux()
                                  ->mutable_security_context()
                                  ->mutable_namespace_options();
    // As kubelet sends it without shareProcessNamespace: no pod-level PID
    // namespace, so no init to keep.
    ns->set_pid(v1::CONTAINER);
    v1::UserNamespace* u = ns->mutable_userns_options();
    u->set_mode(v1::POD);
    for (auto* list : {u->mutable_uids(), u->mutable_gids()}) {
      v1::IDMapping* m = list->Add();
      m->set_container_id(0);
      m->set_host_id(200000);
      m->set_length(65536);
    }
    return config;
  }

  std::string Run(const v1::PodSandboxConfig& config) {
    v1::RunPodSandboxRequest request;
    *request.mutable_config() = config;
    request.set_runtime_handler("nopause");
    v1::RunPodSandboxResponse response;
    grpc::Status status =
        runtime_service().RunPodSandbox(RpcContext().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.pod_sandbox_id();
  }

  // The verbose Status: the pod's status and its parsed "info".
  v1::PodSandboxStatus Status(const std::string& id, json* info) {
    v1::PodSandboxStatusRequest request;
    request.set_pod_sandbox_id(id);
    request.set_verbose(true);
    v1::PodSandboxStatusResponse response;
    grpc::Status s = runtime_service().PodSandboxStatus(RpcContext().get(),
                                                        request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    auto it = response.info().find("info");
    *info = it == response.info().end()
                ? json()
                : json::parse(it->second, nullptr, /*allow_exceptions=*/false);
    return response.status();
  }
};

TEST_F(NoPauseTest, PodWithoutAPauseOverTheSocketAcrossRestarts) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon());
  const std::string id = Run(PodConfig());
  ASSERT_EQ(id.size(), 64u);

  json info;
  v1::PodSandboxStatus status = Status(id, &info);
  ASSERT_TRUE(info.is_object()) << info.dump();
  EXPECT_EQ(status.state(), v1::SANDBOX_READY);
  EXPECT_EQ(status.runtime_handler(), "nopause");
  const std::string ip = status.network().ip();
  EXPECT_TRUE(absl::StartsWith(ip, kSubnetPrefix)) << ip;
  // No process: no pid to report, no process status.
  EXPECT_FALSE(info.contains("pid")) << info.dump();
  EXPECT_FALSE(info.contains("processStatus")) << info.dump();
  EXPECT_EQ(info.value("infra", ""), "none");
  const std::vector<std::string> pins = {
      info.value("netNamespacePath", ""),
      info.value("utsNamespacePath", ""),
      info.value("ipcNamespacePath", ""),
      info.contains("userNamespace") ? info["userNamespace"].value("path", "")
                                     : "",
  };
  for (const std::string& pin : pins) {
    EXPECT_TRUE(IsPin(pin)) << "not a pinned namespace: \"" << pin << "\"";
  }
  // The pod's own UTS and IPC namespaces, not the host's.
  EXPECT_NE(InodeOf(pins[1]), InodeOf("/proc/self/ns/uts"));
  EXPECT_NE(InodeOf(pins[2]), InodeOf("/proc/self/ns/ipc"));
  // Nothing runs in them: the pins alone hold the pod.
  const char* types[] = {"net", "uts", "ipc", "user"};
  for (int i = 0; i < 4; ++i) {
    EXPECT_THAT(ProcessesIn(types[i], InodeOf(pins[i])), ::testing::IsEmpty())
        << types[i];
  }

  std::vector<v1::PodSandbox> pods = ListPods();
  ASSERT_EQ(pods.size(), 1u);
  EXPECT_EQ(pods[0].id(), id);
  EXPECT_EQ(pods[0].state(), v1::SANDBOX_READY);
  EXPECT_EQ(pods[0].runtime_handler(), "nopause");

  // Recovery while READY: nothing to re-attach, the pins are the pod.
  StopDaemon(SIGKILL);
  ASSERT_NO_FATAL_FAILURE(StartDaemon());
  json recovered;
  status = Status(id, &recovered);
  EXPECT_EQ(status.state(), v1::SANDBOX_READY);
  EXPECT_EQ(status.network().ip(), ip);
  EXPECT_EQ(recovered.value("utsNamespacePath", ""), pins[1]);
  EXPECT_EQ(recovered.value("ipcNamespacePath", ""), pins[2]);
  EXPECT_FALSE(recovered.contains("pid")) << recovered.dump();
  for (const std::string& pin : pins) EXPECT_TRUE(IsPin(pin)) << pin;
  ASSERT_EQ(ListPods().size(), 1u);

  // Stop is the namespaces' undo: all four pins go.
  ASSERT_TRUE(StopPod(id).ok());
  status = Status(id, &info);
  EXPECT_EQ(status.state(), v1::SANDBOX_NOTREADY);
  EXPECT_TRUE(status.network().ip().empty());
  for (const std::string& pin : pins) EXPECT_FALSE(IsPin(pin)) << pin;

  // Recovery of the stopped pod: still there, still NOTREADY.
  StopDaemon(SIGKILL);
  ASSERT_NO_FATAL_FAILURE(StartDaemon());
  status = Status(id, &info);
  EXPECT_EQ(status.state(), v1::SANDBOX_NOTREADY);
  v1::PodSandboxFilter filter;
  filter.mutable_state()->set_state(v1::SANDBOX_NOTREADY);
  EXPECT_EQ(ListPods(filter).size(), 1u);
  EXPECT_TRUE(StopPod(id).ok());  // idempotent

  ASSERT_TRUE(RemovePod(id).ok());
  EXPECT_TRUE(ListPods().empty());
  // LeakCheckedTest's TearDown: no pin, record or lease is left.
}

}  // namespace
}  // namespace podsandbox::cri
