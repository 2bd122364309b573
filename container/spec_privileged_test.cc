// Smoke test: config.json from BuildContainerSpec is accepted and run by
// the real runtimes (runc and crun): create, start, wait for the exit,
// delete, with a tiny busybox rootfs. What the process saw (its ids, its
// uid_map, its seccomp mode, the pod's /etc/hosts, a CRI mount) is checked
// from its stdout. The full lifecycle (overlay rootfs, logs, records) is
// the manager's test; this one only proves the spec.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <string>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "container/image_user.h"
#include "container/spec.h"
#include "container/validation.h"
#include "oci/runtime.h"
#include "oci/runtime_factory.h"
#include "sys/cgroup_layout.h"
#include "sys/file.h"
#include "sys/real_sys.h"
#include "sys/status.h"
#include "sys/testing/leak_check.h"
#include "sys/testing/status_matchers.h"
#include "sys/testing/temp_dir.h"
#include "sys/unique_fd.h"

namespace podsandbox::container {
namespace {

using ::podsandbox::sys::testing::StatusIs;
using ::testing::HasSubstr;

struct RuntimeParam {
  oci::RuntimeType type;
  const char* path;
};

void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream(path) << data;
}

int HoldNamespaces(void*) {
  while (true) pause();
  return 0;
}

// A process that only holds namespaces, standing in for the pod's pause:
// new IPC, UTS and network namespaces, created inside a new user
// namespace when `userns` (clone(2) makes the user namespace first, so it
// owns the others, as the pod's pins are owned by the pod's).
pid_t StartHolder(bool userns) {
  static char stack[64 << 10];
  int flags = SIGCHLD | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET;
  if (userns) flags |= CLONE_NEWUSER;
  pid_t pid = clone(HoldNamespaces, stack + sizeof(stack), flags, nullptr);
  if (pid > 0 && userns) {
    WriteFile(absl::StrCat("/proc/", pid, "/uid_map"), "0 200000 65536\n");
    WriteFile(absl::StrCat("/proc/", pid, "/gid_map"), "0 200000 65536\n");
  }
  return pid;
}

class SpecPrivilegedTest : public sys::LeakCheckedTest,
                           public ::testing::WithParamInterface<RuntimeParam> {
 protected:
  void SetUp() override {
    ASSERT_EQ(geteuid(), 0u) << "privileged test: run as root";
    BuildRootfs();
    handler_.name = "test";
    handler_.type = GetParam().type;
    handler_.path = GetParam().path;
    handler_.root = state_.Sub("root");
    handler_.timeout = absl::Seconds(30);
    WatchDirectory(state_.path());
    WatchCgroup(cgroup_parent_);
    LeakCheckedTest::SetUp();
    runtime_ = oci::MakeOciRuntime(real_, handler_);
  }

  void CleanUpTestFixtures() override {
    if (holder_ > 0) {
      kill(holder_, SIGKILL);
      waitpid(holder_, nullptr, 0);
      holder_ = 0;
    }
    // The runtimes remove the container's cgroup, not the parent they made.
    absl::StatusOr<std::vector<std::string>> dirs =
        sys::HostCgroupDirectories(cgroup_parent_);
    if (dirs.ok()) {
      for (const std::string& dir : *dirs) ::rmdir(dir.c_str());
    }
  }

  // bin/busybox with its applets as symlinks, etc/passwd, etc/group and
  // etc/hosts (a mount point for the pod's file), and the mount points.
  void BuildRootfs() {
    // Every mount point exists: in a user namespace the pod's root cannot
    // create them in a rootfs owned by the host's root (the real rootfs is
    // an idmapped overlay; this one is a plain directory).
    for (const char* dir :
         {"bin", "etc", "data", "proc", "dev", "sys", "shared"}) {
      ASSERT_EQ(mkdir(rootfs_.Sub(dir).c_str(), 0755), 0);
    }
    absl::StatusOr<std::string> busybox = sys::ReadFile("/bin/busybox");
    ASSERT_OK(busybox.status());
    WriteFile(rootfs_.Sub("bin/busybox"), *busybox);
    ASSERT_EQ(chmod(rootfs_.Sub("bin/busybox").c_str(), 0755), 0);
    for (const char* applet : {"sh", "id", "cat", "grep", "touch", "mount"}) {
      ASSERT_EQ(
          symlink("busybox", rootfs_.Sub(absl::StrCat("bin/", applet)).c_str()),
          0);
    }
    WriteFile(rootfs_.Sub("etc/passwd"),
              "root:x:0:0:root:/root:/bin/sh\nweb:x:1000:1000::/:/bin/sh\n");
    WriteFile(rootfs_.Sub("etc/group"),
              "root:x:0:\nweb:x:1000:\nextra:x:7:web\n");
    WriteFile(rootfs_.Sub("etc/hosts"), "");
    WriteFile(pod_files_.Sub("hosts"), "127.0.0.1 k1-spec-test\n");
    WriteFile(pod_files_.Sub("volume-file"), "from the host\n");
  }

  // The pod: namespaces held by a holder process (see StartHolder).
  PodContext Pod(bool userns = false) {
    holder_ = StartHolder(userns);
    EXPECT_GT(holder_, 0) << "clone: " << strerror(errno);
    PodContext pod;
    std::string ns = absl::StrCat("/proc/", holder_, "/ns/");
    pod.ipc_ns_path = ns + "ipc";
    pod.uts_ns_path = ns + "uts";
    pod.net_ns_path = ns + "net";
    if (userns) {
      pod.user_ns_path = ns + "user";
      pod.id_mappings =
          userns::IdMappings{{{0, 200000, 65536}}, {{0, 200000, 65536}}};
    }
    pod.sandbox_id = "k1sandbox";
    pod.pod_name = "spec-test";
    pod.pod_namespace = "default";
    pod.pod_uid = "uid";
    pod.hostname = "spec-test";
    pod.cgroup_parent = cgroup_parent_;
    pod.hosts_path = pod_files_.Sub("hosts");
    return pod;
  }

  ContainerConfig Config(const std::string& script) {
    ContainerConfig c;
    c.metadata.name = "smoke";
    c.image = "local/busybox";
    c.command = {"/bin/sh", "-c", script};
    c.mounts = {
        {"/data", pod_files_.path(), true, false, MountPropagation::kPrivate}};
    return c;
  }

  // Validates, resolves the user, builds the spec and runs it to its exit;
  // returns its stdout. The container is deleted whatever happens.
  absl::StatusOr<std::string> Run(const std::string& id,
                                  const ContainerConfig& config,
                                  const PodContext& pod,
                                  absl::string_view image_user) {
    RETURN_IF_ERROR(ValidateContainerConfig(config, pod));
    sys::UniqueFd root(open(rootfs_.path().c_str(), O_PATH | O_DIRECTORY));
    if (root.get() < 0) return absl::InternalError("open rootfs");
    ASSIGN_OR_RETURN(
        ProcessUser user,
        ResolveProcessUser(real_, root.get(), config.security, image_user));
    image::ImageConfig image;
    image.env = {"PATH=/bin"};
    // As the daemon probes them: privileged means the capabilities this
    // process holds.
    ASSIGN_OR_RETURN(
        nlohmann::json spec,
        BuildContainerSpec(real_, id, config, image, pod, rootfs_.path(), user,
                           ProbeHostFeatures()));
    std::string bundle = bundles_.Sub(id);
    if (mkdir(bundle.c_str(), 0700) != 0) {
      return absl::InternalError("mkdir bundle");
    }
    WriteFile(bundle + "/config.json", spec.dump());
    oci::CreateRequest request{id, bundle, bundle + "/pid", bundle + "/output",
                               bundle + "/runtime.json"};
    absl::Cleanup remove = [&] {
      // NotFound: never created, or already gone.
      runtime_->Delete(id).IgnoreError();
    };
    RETURN_IF_ERROR(runtime_->Create(request));
    RETURN_IF_ERROR(runtime_->Start(id));
    // Poll the runtime until the process has exited (it is short-lived).
    absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (true) {
      ASSIGN_OR_RETURN(oci::RuntimeState state, runtime_->State(id));
      if (state.status == "stopped") break;
      if (absl::Now() > deadline) {
        return absl::DeadlineExceededError("container did not exit");
      }
      absl::SleepFor(absl::Milliseconds(10));
    }
    return sys::ReadFile(request.log_file);
  }

  sys::RealSys real_;
  sys::TempDir rootfs_{"/tmp"};
  sys::TempDir bundles_{"/tmp"};
  sys::TempDir state_{"/tmp"};
  sys::TempDir pod_files_{"/tmp"};
  std::string cgroup_parent_ = absl::StrCat("/psb-k1-spec-", ::getpid());
  oci::RuntimeHandler handler_;
  std::unique_ptr<oci::OciRuntime> runtime_;
  pid_t holder_ = 0;
};

TEST_P(SpecPrivilegedTest, HostUserNamespaceContainerRunsAsImageUser) {
  ContainerConfig c = Config(
      "id -u; id -G; grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status; "
      "cat /etc/hosts /data/volume-file; "
      "touch /data/x 2>/dev/null || echo data-ro; echo through-a-pipe | cat");
  c.security.no_new_privs = true;
  c.security.readonly_rootfs = true;
  ASSERT_OK_AND_ASSIGN(std::string out, Run("k1-host", c, Pod(), "web"));
  EXPECT_THAT(out, HasSubstr("1000\n1000 7\n"));
  EXPECT_THAT(out, HasSubstr("NoNewPrivs:\t1"));
  EXPECT_THAT(out, HasSubstr("Seccomp:\t2"));  // RuntimeDefault is on
  EXPECT_THAT(out, HasSubstr("127.0.0.1 k1-spec-test"));
  EXPECT_THAT(out, HasSubstr("from the host"));
  EXPECT_THAT(out, HasSubstr("data-ro"));
  // RuntimeDefault lets a shell make pipes.
  EXPECT_THAT(out, HasSubstr("through-a-pipe"));
}

// A privileged container gets the capabilities this process holds (asking
// for every known one fails where the host's bounding set lacks one), and
// a Bidirectional mount sends the container's mounts back to the host.
TEST_P(SpecPrivilegedTest, PrivilegedContainerSharesBidirectionalMounts) {
  sys::TempDir shared{"/tmp"};
  std::string inner = shared.Sub("inner");
  ASSERT_EQ(mkdir(inner.c_str(), 0755), 0);
  // A shared mount of its own, as kubelet prepares a Bidirectional volume.
  ASSERT_TRUE(real_
                  .Mount(shared.path().c_str(), shared.path().c_str(), nullptr,
                         MS_BIND | MS_REC, nullptr)
                  .ok());
  absl::Cleanup unmount = [&] {
    // Detaches what the container mounted below it too.
    (void)real_.Umount2(shared.path().c_str(), MNT_DETACH);
  };
  ASSERT_TRUE(real_
                  .Mount(nullptr, shared.path().c_str(), nullptr,
                         MS_SHARED | MS_REC, nullptr)
                  .ok());
  ContainerConfig c = Config(
      "grep CapBnd /proc/self/status; "
      "mount -t tmpfs psb-propagated /shared/inner && echo mounted");
  c.security.privileged = true;
  c.mounts.push_back({"/shared", shared.path(), false, false,
                      MountPropagation::kBidirectional});
  PodContext pod = Pod();
  pod.privileged = true;
  ASSERT_OK_AND_ASSIGN(std::string out, Run("k1-privileged", c, pod, ""));
  ASSERT_OK_AND_ASSIGN(std::string status, sys::ReadFile("/proc/self/status"));
  size_t at = status.find("CapBnd:");
  ASSERT_NE(at, std::string::npos);
  EXPECT_THAT(out, HasSubstr(status.substr(at, status.find('\n', at) - at)));
  EXPECT_THAT(out, HasSubstr("mounted"));
  ASSERT_OK_AND_ASSIGN(std::string mounts,
                       sys::ReadFile("/proc/self/mountinfo"));
  EXPECT_THAT(mounts, HasSubstr(absl::StrCat(" ", inner, " ")))
      << "the container's mount did not reach the host";

  // Not shared any more: refused before anything is made, as containerd
  // refuses it, rather than run with nothing propagating.
  ASSERT_TRUE(real_
                  .Mount(nullptr, shared.path().c_str(), nullptr,
                         MS_PRIVATE | MS_REC, nullptr)
                  .ok());
  EXPECT_THAT(ValidateContainerConfig(c, pod),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("config.mounts[1].propagation")));
  c.mounts[1].propagation = MountPropagation::kHostToContainer;
  EXPECT_THAT(ValidateContainerConfig(c, pod),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("shared or slave")));
}

TEST_P(SpecPrivilegedTest, UserNamespacedContainerIsRootInsideOnly) {
  PodContext pod = Pod(/*userns=*/true);
  // sysfs mounts (the last line counts it) because the pod's netns belongs
  // to the pod's user namespace.
  ContainerConfig c = Config(
      "id -u; cat /proc/self/uid_map; "
      "grep -E '^Seccomp:' /proc/self/status; cat /etc/hosts; "
      "grep -c ' - sysfs ' /proc/self/mountinfo");
  ASSERT_OK_AND_ASSIGN(std::string out, Run("k1-userns", c, pod, ""));
  EXPECT_THAT(out, ::testing::StartsWith("0\n"));
  EXPECT_THAT(out, ::testing::ContainsRegex("0 +200000 +65536"));
  EXPECT_THAT(out, HasSubstr("Seccomp:\t2"));
  EXPECT_THAT(out, HasSubstr("k1-spec-test"));
  EXPECT_THAT(out, ::testing::EndsWith("\n1\n"));
}

TEST_P(SpecPrivilegedTest, UnconfinedSeccompRunsWithoutFilter) {
  ContainerConfig c = Config("grep -E '^Seccomp:' /proc/self/status");
  c.security.seccomp = {ProfileType::kUnconfined, ""};
  ASSERT_OK_AND_ASSIGN(std::string out, Run("k1-unconfined", c, Pod(), ""));
  EXPECT_THAT(out, HasSubstr("Seccomp:\t0"));
}

INSTANTIATE_TEST_SUITE_P(
    Runtimes, SpecPrivilegedTest,
    ::testing::Values(RuntimeParam{oci::RuntimeType::kRunc, "/usr/sbin/runc"},
                      RuntimeParam{oci::RuntimeType::kCrun, "/usr/bin/crun"}),
    [](const ::testing::TestParamInfo<RuntimeParam>& info) {
      return std::string(oci::RuntimeTypeName(info.param.type));
    });

}  // namespace
}  // namespace podsandbox::container
