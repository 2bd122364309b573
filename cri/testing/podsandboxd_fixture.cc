#include "cri/testing/podsandboxd_fixture.h"

#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "sys/real_sys.h"
#include "sys/subprocess.h"

namespace podsandbox::cri {
namespace {

namespace v1 = ::runtime::v1;

constexpr char kIpForward[] = "/proc/sys/net/ipv4/ip_forward";

// What an idle podsandboxd keeps in the trees it writes (root, state, the
// IPAM dataDir), relative to the temporary directory (fnmatch(3) patterns,
// '*' within one path component). Anything else found there after every
// pod was removed belongs to a pod that was not cleaned up. Files the
// tests themselves put at the top of the temporary directory (configs,
// logs, sockets) are not the daemon's and are not looked at.
constexpr const char* kKept[] = {
    "root",
    "root/lock",
    "root/sandboxes",
    "root/cni",
    "root/cni/results",
    // The image store's empty layout: a test that pulls removes its images.
    "root/images",
    "root/images/blobs",
    "root/images/blobs/sha256",
    "root/images/layers",
    "root/images/images",
    "root/images/tmp",
    // The container manager's record and bundle directories (issue 16).
    "root/containers",
    "run/containers",
    "run",
    "run/podsandboxd.sock",
    "run/bundles",
    "run/ns",
    "run/ns/netns",
    "run/ns/userns",
    // Made on first use by a pod without a pause (infra = "none").
    "run/ns/uts",
    "run/ns/ipc",
    "run/pods",
    // The parent of each pod's /dev/shm tmpfs mountpoint.
    "run/shm",
    // The keeper's dir: its lock file and log outlive it (it exits idle).
    "run/keeper",
    "run/keeper/*",
    "run/runtime",
    "run/runtime/*",
    "run/rootfs",
    "run/rootfs/*",
    "run/rootfs/*/*",
    // host-local's range state: its lock and the last address it handed
    // out outlive every lease.
    "ipam",
    "ipam/*",
    "ipam/*/lock",
    "ipam/*/last_reserved_ip.*",
};

bool KeptByAnIdleDaemon(const std::string& relative_path) {
  for (const char* pattern : kKept) {
    if (fnmatch(pattern, relative_path.c_str(), FNM_PATHNAME) == 0) {
      return true;
    }
  }
  return false;
}

// Every file and directory below `dir`, parents before children.
void ListTree(const std::string& dir, std::vector<std::string>& out) {
  std::unique_ptr<DIR, int (*)(DIR*)> d(opendir(dir.c_str()), closedir);
  if (d == nullptr) return;
  while (struct dirent* e = readdir(d.get())) {
    const std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    const std::string path = absl::StrCat(dir, "/", name);
    out.push_back(path);
    if (e->d_type == DT_DIR) ListTree(path, out);
  }
}

// Mount points at or below `prefix`, in mountinfo's order (parents first).
std::vector<std::string> MountsUnder(const std::string& prefix) {
  std::istringstream mounts(ReadAll("/proc/self/mountinfo"));
  std::vector<std::string> out;
  for (std::string line; std::getline(mounts, line);) {
    std::vector<std::string> fields = absl::StrSplit(line, ' ');
    if (fields.size() > 4 && absl::StartsWith(fields[4], prefix)) {
      out.push_back(fields[4]);
    }
  }
  return out;
}

}  // namespace

std::string Runfile(absl::string_view path) {
  const char* srcdir = getenv("TEST_SRCDIR");
  return absl::StrCat(srcdir != nullptr ? srcdir : ".", "/podsandbox/", path);
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void WriteAll(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
}

int CountFiles(const std::string& dir) {
  int n = 0;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (struct dirent* e = ::readdir(d)) n += e->d_name[0] != '.';
    ::closedir(d);
  }
  return n;
}

std::string FakePluginDir() {
  char cwd[4096];
  return absl::StrCat(::getcwd(cwd, sizeof(cwd)), "/testdata/cni/plugins");
}

std::unique_ptr<grpc::ClientContext> RpcContext() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + absl::Minutes(2)));
  return context;
}

PodsandboxdTestBase::PodsandboxdTestBase(Options options)
    : options_(std::move(options)) {}

void PodsandboxdTestBase::SetUp() {
  LeakCheckedTest::SetUp();
  ip_forward_ = ReadAll(kIpForward);
  // A user namespace's root must reach the bundle and rootfs under the
  // state dir, so not under $TEST_TMPDIR (/root/..., mode 0700).
  base_ = std::make_unique<sys::TempDir>("/tmp");
  chmod(base_->path().c_str(), 0711);
  root_ = base_->Sub("root");
  state_ = base_->Sub("run");
  socket_ = base_->Sub("run/podsandboxd.sock");
  config_ = base_->Sub("podsandboxd.toml");
  mkdir(base_->Sub("net.d").c_str(), 0755);
  WriteAll(base_->Sub("net.d/10-test.conflist"),
           absl::StrCat(R"({"cniVersion": "1.0.0", "name": ")",
                        options_.network_name, R"(",
  "plugins": [{"type": "bridge", "bridge": ")",
                        options_.bridge, R"(", "isGateway": true,
    "ipMasq": false, "ipam": {"type": "host-local",
    "ranges": [[{"subnet": ")",
                        options_.subnet, R"("}]],
    "dataDir": ")",
                        base_->Sub("ipam"), R"("}}]})"));
  WriteAll(config_, absl::StrCat(R"(
stop_grace_period = "2s"
[cni]
conf_dir = ")",
                                 base_->Sub("net.d"), R"("
bin_dirs = ["/usr/lib/cni", "/opt/cni/bin"]

[[runtime_handlers]]
name = "runc"
type = "runc"
path = "/usr/sbin/runc"
)",
                                 options_.builtin_handler ? R"(
[[runtime_handlers]]
name = "builtin"
type = "builtin"
)"
                                                          : "",
                                 options_.no_pause_handler ? R"(
[[runtime_handlers]]
name = "nopause"
type = "runc"
path = "/usr/sbin/runc"
infra = "none"
)"
                                                           : ""));
}

void PodsandboxdTestBase::TearDown() {
  if (daemon_running()) {
    RemoveAllPods();
    StopDaemon(SIGTERM);
  }
  LeakCheckedTest::TearDown();
}

std::string PodsandboxdTestBase::FindLeftovers() {
  std::string out;
  const std::string prefix = base_->path() + "/";
  for (const std::string& mount : MountsUnder(prefix)) {
    const std::string rel = mount.substr(prefix.size());
    // The pin directories stay (shared mounts); a pin in one is a pod's.
    if (rel != "run/ns/netns" && rel != "run/ns/userns" &&
        rel != "run/ns/uts" && rel != "run/ns/ipc") {
      absl::StrAppend(&out, "mount ", mount, "\n");
    }
  }
  std::vector<std::string> paths;
  for (const std::string& tree : {root_, state_, base_->Sub("ipam")}) {
    if (access(tree.c_str(), F_OK) == 0) paths.push_back(tree);
    ListTree(tree, paths);
  }
  for (const std::string& path : paths) {
    const std::string rel = path.substr(prefix.size());
    if (!KeptByAnIdleDaemon(rel)) absl::StrAppend(&out, "file ", path, "\n");
  }
  return out;
}

void PodsandboxdTestBase::CleanUpTestFixtures() {
  // Innermost first: /proc/self/mountinfo lists a mount after its parent.
  const std::vector<std::string> ours = MountsUnder(base_->path());
  for (auto it = ours.rbegin(); it != ours.rend(); ++it) {
    umount2(it->c_str(), MNT_DETACH);
  }
  sys::RealSys sys;
  sys::Command del{"/usr/sbin/ip", {"ip", "link", "del", options_.bridge}};
  sys::RunSubprocess(sys, del).IgnoreError();  // absent: nothing to undo
  base_.reset();
  WriteAll(kIpForward, ip_forward_);
}

std::vector<std::string> PodsandboxdTestBase::DaemonArgs() const {
  std::vector<std::string> args = {
      "--config",       config_,
      "--root",         root_,
      "--state",        state_,
      "--listen",       socket_,
      "--pause-binary", Runfile("sandbox/pause/pause")};
  args.insert(args.end(), options_.extra_daemon_args.begin(),
              options_.extra_daemon_args.end());
  return args;
}

void PodsandboxdTestBase::StartDaemon() {
  const std::string log = base_->Sub("daemon.log");
  std::vector<std::string> args = DaemonArgs();
  args.insert(args.begin(), Runfile("cri/podsandboxd"));
  if (options_.socket_activated) {
    args.insert(args.begin(),
                {"/usr/bin/systemd-socket-activate", "--listen", socket_});
  }
  daemon_ = fork();
  ASSERT_GE(daemon_, 0);
  if (daemon_ == 0) {
    // Syscalls only between fork and exec: the test is multithreaded.
    if (options_.cgroup_v2_only) {
      // MNT_DETACH takes the v1 hierarchies mounted below with the tmpfs.
      if (unshare(CLONE_NEWNS) != 0 ||
          mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
          umount2("/sys/fs/cgroup", MNT_DETACH) != 0 ||
          mount("cgroup2", "/sys/fs/cgroup", "cgroup2",
                MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0) {
        _exit(126);
      }
    }
    const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    dup2(fd, 1);
    dup2(fd, 2);
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (absl::Now() < deadline) {
    int status = 0;
    if (waitpid(daemon_, &status, WNOHANG) == daemon_) {
      daemon_ = -1;
      FAIL() << "podsandboxd exited at start:\n" << ReadAll(log);
    }
    // A fresh channel per poll: a channel whose first connect failed (no
    // socket yet) waits out gRPC's reconnect backoff, seconds long.
    channel_ =
        grpc::CreateChannel(endpoint(), grpc::InsecureChannelCredentials());
    runtime_service_ = v1::RuntimeService::NewStub(channel_);
    grpc::ClientContext context;
    context.set_deadline(
        absl::ToChronoTime(absl::Now() + absl::Milliseconds(200)));
    v1::VersionResponse response;
    if (runtime_service_->Version(&context, {}, &response).ok()) return;
    absl::SleepFor(absl::Milliseconds(20));  // polling, with a deadline
  }
  FAIL() << "podsandboxd did not answer:\n" << ReadAll(log);
}

void PodsandboxdTestBase::StopDaemon(int signal) {
  if (!daemon_running()) return;
  kill(daemon_, signal);
  int status = 0;
  waitpid(daemon_, &status, 0);
  daemon_ = -1;
}

void PodsandboxdTestBase::CloseClient() {
  runtime_service_.reset();
  channel_.reset();
}

std::vector<v1::PodSandbox> PodsandboxdTestBase::ListPods(
    const v1::PodSandboxFilter& filter) {
  v1::ListPodSandboxRequest request;
  *request.mutable_filter() = filter;
  v1::ListPodSandboxResponse response;
  grpc::Status status =
      runtime_service_->ListPodSandbox(RpcContext().get(), request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return {response.items().begin(), response.items().end()};
}

grpc::Status PodsandboxdTestBase::StopPod(const std::string& id) {
  v1::StopPodSandboxRequest request;
  request.set_pod_sandbox_id(id);
  v1::StopPodSandboxResponse response;
  return runtime_service_->StopPodSandbox(RpcContext().get(), request,
                                          &response);
}

grpc::Status PodsandboxdTestBase::RemovePod(const std::string& id) {
  v1::RemovePodSandboxRequest request;
  request.set_pod_sandbox_id(id);
  v1::RemovePodSandboxResponse response;
  return runtime_service_->RemovePodSandbox(RpcContext().get(), request,
                                            &response);
}

void PodsandboxdTestBase::RemoveAllPods() {
  for (const v1::PodSandbox& pod : ListPods()) {
    EXPECT_TRUE(StopPod(pod.id()).ok());
    EXPECT_TRUE(RemovePod(pod.id()).ok());
  }
}

std::string PodsandboxdTestBase::DaemonLog() const {
  return ReadAll(base_->Sub("daemon.log"));
}

std::string PodsandboxdTestBase::endpoint() const {
  return absl::StrCat("unix://", socket_);
}

}  // namespace podsandbox::cri
