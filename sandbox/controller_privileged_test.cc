// The Controller end to end through its C++ API, with real namespaces, the
// real bridge/host-local/portmap plugins and real runc: what the kernel did,
// and that nothing is left behind afterwards, on success and on failure.
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/functional/function_ref.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "netns/in_netns.h"
#include "netns/namespace_file.h"
#include "netns/namespaces.h"
#include "nlohmann/json.hpp"
#include "oci/runtime_handler.h"
#include "oci/runtime_type.h"
#include "sandbox/controller.h"
#include "sandbox/controller_impl.h"
#include "sandbox/record.h"
#include "sys/file.h"
#include "sys/real_sys.h"
#include "sys/status.h"
#include "sys/subprocess.h"
#include "sys/testing/capture_stderr.h"
#include "sys/testing/fault_loop.h"
#include "sys/testing/faulty_sys.h"
#include "sys/testing/leak_check.h"
#include "sys/testing/status_matchers.h"
#include "sys/testing/temp_dir.h"
#include "userns/proc_maps.h"

namespace podsandbox::sandbox {
namespace {

using ::podsandbox::sys::SysCall;
using ::podsandbox::sys::testing::IsOkAndHolds;
using ::podsandbox::sys::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;
using ::testing::StartsWith;

constexpr char kBridge[] = "psbctl0";
constexpr char kSubnetPrefix[] = "10.235.7.";

const userns::IdMappings kMappings = {{{0, 200000, 65536}},
                                      {{0, 200000, 65536}}};

std::string Iptables(const char* table) {
  sys::RealSys sys;
  sys::Command cmd;
  cmd.path = "/usr/sbin/iptables";
  cmd.args = {"iptables", "-w", "-t", table, "-S"};
  cmd.env = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin"};
  absl::StatusOr<sys::SubprocessResult> r = sys::RunSubprocess(sys, cmd);
  return r.ok() ? r->stdout_data : "";
}

oci::RuntimeHandler RuncHandler() {
  oci::RuntimeHandler runc;
  runc.name = "runc";
  runc.type = oci::RuntimeType::kRunc;
  runc.path = "/usr/sbin/runc";
  return runc;
}

class ControllerTest : public sys::LeakCheckedTest {
 protected:
  void SetUp() override {
    ASSERT_EQ(::geteuid(), 0u) << "privileged test: run as root";
    root_ = dir_.Sub("root");
    state_ = dir_.Sub("state");
    conf_dir_ = dir_.Sub("net.d");
    ipam_dir_ = dir_.Sub("ipam");
    // Where a sandbox leaves traces: records, CNI cache, pins, bundles, pod
    // files, runtime state and IPAM leases. host-local's lock and
    // last-reserved files stay by design, so they exist before the
    // snapshot.
    std::string leases = ipam_dir_ + "/psbtest";
    ASSERT_OK(sys::MakeDirs(real_, leases, 0755));
    for (const char* kept : {"/lock", "/last_reserved_ip.0"}) {
      ASSERT_OK(sys::WriteFileAtomically(real_, leases + kept, "", 0644));
    }
    for (const std::string& watched :
         {root_ + "/sandboxes", root_ + "/cni", state_ + "/ns",
          state_ + "/bundles", state_ + "/pods", state_ + "/shm",
          state_ + "/runtime", leases}) {
      WatchDirectory(watched);
    }
    ip_forward_ = sys::ReadFile("/proc/sys/net/ipv4/ip_forward").value_or("0");
    LeakCheckedTest::SetUp();
    ASSERT_OK(sys::MakeDirs(real_, conf_dir_, 0755));
    ASSERT_OK(WriteNetwork("bridge"));
  }

  // The test's own fixtures: the bridge the plugin made, ip_forward (the
  // bridge plugin with isGateway turns it on), and the pin dir mounts.
  void CleanUpTestFixtures() override {
    controller_.reset();
    // The controller made this process a child subreaper; with its reaper
    // gone, reap what was orphaned to us since (a killed plugin's child, a
    // pause whose daemon was SIGKILLed).
    while (::waitpid(-1, nullptr, WNOHANG) > 0) {
    }
    sys::Command del;
    del.path = "/usr/sbin/ip";
    del.args = {"ip", "link", "del", kBridge};
    del.env = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin"};
    (void)sys::RunSubprocess(real_, del);
    // A /proc/sys file takes a plain write; it cannot be replaced.
    if (absl::StatusOr<sys::UniqueFd> fd =
            sys::OpenFile(real_, "/proc/sys/net/ipv4/ip_forward", O_WRONLY);
        fd.ok()) {
      // Best effort: the leak check reports it if this fails.
      sys::WriteAll(real_, fd->get(), ip_forward_).IgnoreError();
    }
    netns::UnmountPinDirs(real_, state_ + "/ns")
        .IgnoreError();  // leak check reports
  }

  // A bridge + host-local + portmap list whose first plugin is `type`
  // (a fault-injecting fake's path can stand in for the bridge), then
  // `extra_plugin` with `extra_fields` if given.
  absl::Status WriteNetwork(absl::string_view type,
                            absl::string_view extra_plugin = "",
                            nlohmann::json extra_fields = nlohmann::json()) {
    nlohmann::json bridge = {
        {"type", std::string(type)},
        {"bridge", kBridge},
        {"isGateway", true},
        {"ipMasq", false},
        {"ipam",
         {{"type", "host-local"},
          {"dataDir", ipam_dir_},
          {"ranges", {{{{"subnet", absl::StrCat(kSubnetPrefix, "0/24")}}}}},
          {"routes", {{{"dst", "0.0.0.0/0"}}}}}}};
    nlohmann::json plugins = {
        bridge,
        {{"type", "portmap"}, {"capabilities", {{"portMappings", true}}}}};
    if (!extra_plugin.empty()) {
      nlohmann::json extra = {{"type", std::string(extra_plugin)}};
      if (extra_fields.is_object()) extra.update(extra_fields);
      plugins.push_back(extra);
    }
    nlohmann::json list = {
        {"cniVersion", "1.0.0"}, {"name", "psbtest"}, {"plugins", plugins}};
    return sys::WriteFileAtomically(
        real_, absl::StrCat(conf_dir_, "/10-psbtest.conflist"), list.dump(),
        0644);
  }

  ControllerOptions Options() {
    ControllerOptions o;
    o.root_dir = root_;
    o.state_dir = state_;
    o.cni_conf_dir = conf_dir_;
    o.cni_bin_dirs = {"/usr/lib/cni", TestdataCniDir()};
    o.cni_timeout = absl::Seconds(5);
    o.pause_binary = "sandbox/pause/pause";
    o.stop_grace_period = absl::Seconds(2);
    o.overlap_network_with_create = overlap_network_with_create_;
    o.overlap_kill_with_network_delete = overlap_kill_with_network_delete_;
    o.runtime_handlers = runtime_handlers_;
    // Every pod here maps kMappings; the refusal of overlapping ranges has
    // its own test (validation_privileged_test).
    o.userns_policy.allow_overlapping_ranges = true;
    return o;
  }

  static std::string TestdataCniDir() {
    char cwd[4096];
    return absl::StrCat(::getcwd(cwd, sizeof(cwd)), "/testdata/cni/plugins");
  }

  absl::Status Start(sys::Sys& sys) {
    controller_.reset();
    ASSIGN_OR_RETURN(controller_, Controller::Create(sys, Options()));
    return absl::OkStatus();
  }

  // What Controller::Create does, but with `hook` set before Init, so
  // that recovery's crash points reach it too.
  absl::StatusOr<std::unique_ptr<ControllerImpl>> CreateWithCrashPointHook(
      sys::Sys& sys, absl::AnyInvocable<void(absl::string_view)> hook) {
    ControllerOptions options = Options();
    ASSIGN_OR_RETURN(oci::HandlerRegistry handlers,
                     CompleteControllerOptions(options));
    auto c = std::make_unique<ControllerImpl>(sys, std::move(options),
                                              std::move(handlers));
    c->SetCrashPointHookForTesting(std::move(hook));
    RETURN_IF_ERROR(c->Init());
    return c;
  }

  // Runs `body` in a forked child on a controller of its own whose crash
  // point hook SIGKILLs the child at `point` (recovery's points included),
  // and expects it to die there: a child that never reaches the point
  // exits instead, and that fails the test. With a point no hook names
  // ("none"), `body` sets its own kill (a step hook). The controller here
  // is gone first, since the root's lock admits one.
  void CrashChildAt(absl::string_view point,
                    absl::FunctionRef<void(ControllerImpl&)> body) {
    controller_.reset();
    std::string target(point);
    pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      absl::StatusOr<std::unique_ptr<ControllerImpl>> c =
          CreateWithCrashPointHook(real_, [target](absl::string_view p) {
            if (p == target) ::kill(::getpid(), SIGKILL);
          });
      if (!c.ok()) {
        ::fprintf(stderr, "child: %s\n", c.status().ToString().c_str());
        ::_exit(2);
      }
      body(**c);
      ::_exit(3);
    }
    int wstatus = 0;
    ASSERT_EQ(::waitpid(child, &wstatus, 0), child);
    ASSERT_TRUE(WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGKILL)
        << "the child did not die at " << point << " (wait status " << wstatus
        << ")";
  }

  // Runs one pod and removes it, so that what outlives pods (the bridge,
  // ip_forward, the state subdirectories, host-local's files) exists
  // before a test takes its own snapshot.
  void WarmUp() {
    ASSERT_OK(Start(sys_));
    ASSERT_OK_AND_ASSIGN(std::string id,
                         controller_->RunPodSandbox(Pod("warmup", true), ""));
    ASSERT_OK(controller_->RemovePodSandbox(id));
  }

  // Everywhere a sandbox leaves files, as the fixture watches them.
  std::vector<std::string> Watched() const {
    return {root_ + "/sandboxes", root_ + "/cni",        state_ + "/ns",
            state_ + "/bundles",  state_ + "/pods",      state_ + "/shm",
            state_ + "/runtime",  ipam_dir_ + "/psbtest"};
  }

  void RunFaultLoop(const PodConfig& config);

  static PodConfig Pod(absl::string_view name, bool userns) {
    PodConfig config;
    config.metadata = {std::string(name), absl::StrCat("uid-", name), "psbtest",
                       0};
    config.hostname = std::string(name);
    config.dns.servers = {"10.96.0.10"};
    if (userns) {
      config.namespaces.userns.mode = NamespaceMode::kPod;
      config.namespaces.userns.mappings = kMappings;
    }
    return config;
  }

  struct Inspected {
    pid_t pid = 0;
    std::string netns;
    nlohmann::json info;
  };

  Inspected Inspect(const std::string& id) {
    Inspected out;
    absl::StatusOr<SandboxStatus> status =
        controller_->PodSandboxStatus(id, /*verbose=*/true);
    EXPECT_OK(status.status());
    if (!status.ok()) return out;
    out.info = nlohmann::json::parse(status->info_json, nullptr, false);
    EXPECT_FALSE(out.info.is_discarded());
    if (out.info.is_discarded()) return out;
    out.pid = out.info.value("pid", 0);
    out.netns = out.info.value("netNamespacePath", "");
    return out;
  }

  // Polls until `id` is NOTREADY or `timeout` passes.
  bool BecomesNotReady(const std::string& id, absl::Duration timeout) {
    absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      absl::StatusOr<SandboxStatus> s =
          controller_->PodSandboxStatus(id, false);
      if (s.ok() && s->state == SandboxState::kNotReady) return true;
      absl::SleepFor(absl::Milliseconds(5));
    }
    return false;
  }

  sys::RealSys real_;
  sys::FaultySys sys_{real_};
  sys::TempDir dir_{"/tmp"};  // the pod's root must reach the rootfs
  std::string root_, state_, conf_dir_, ipam_dir_, ip_forward_;
  std::unique_ptr<Controller> controller_;
  bool overlap_network_with_create_ = true;
  bool overlap_kill_with_network_delete_ = true;
  // runc unless a test says otherwise: these tests were written around an
  // OCI runtime binary (its state, its faults); the builtin handler, the
  // default when none is configured, has builtin_pause_privileged_test.
  std::vector<oci::RuntimeHandler> runtime_handlers_ = {RuncHandler()};
};

TEST_F(ControllerTest, UserNamespacedPodRunsStopsAndIsRemoved) {
  ASSERT_OK(Start(sys_));
  ASSERT_OK_AND_ASSIGN(std::string id,
                       controller_->RunPodSandbox(Pod("web", true), ""));
  EXPECT_EQ(id.size(), 64u);
  ASSERT_OK_AND_ASSIGN(SandboxStatus status,
                       controller_->PodSandboxStatus(id, false));
  EXPECT_EQ(status.state, SandboxState::kReady);
  EXPECT_THAT(status.ip, StartsWith(kSubnetPrefix));
  EXPECT_EQ(status.runtime_handler, "runc");

  Inspected pod = Inspect(id);
  ASSERT_GT(pod.pid, 0);
  // The pause sees exactly the requested maps.
  EXPECT_THAT(userns::ReadProcessMaps(pod.pid), IsOkAndHolds(kMappings));
  // It is in the pinned netns, and that netns belongs to its user namespace.
  std::string proc = absl::StrCat("/proc/", pod.pid, "/ns/");
  EXPECT_EQ(*netns::IdOfPath(proc + "net"), *netns::IdOfPath(pod.netns));
  ASSERT_OK_AND_ASSIGN(sys::UniqueFd netns,
                       netns::OpenNamespace(real_, pod.netns));
  ASSERT_OK_AND_ASSIGN(sys::UniqueFd owner,
                       netns::OwningUserNamespace(real_, netns.get()));
  EXPECT_EQ(*netns::IdOf(owner.get()), *netns::IdOfPath(proc + "user"));
  EXPECT_NE(*netns::IdOfPath(proc + "user"),
            *netns::IdOfPath("/proc/self/ns/user"));
  EXPECT_EQ(pod.info["userNamespace"]["uidMappings"][0]["hostID"], 200000);
  // The pod files belong to the pod's root.
  struct stat st;
  ASSERT_EQ(::stat((state_ + "/pods/" + id + "/resolv.conf").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 200000u);

  ASSERT_OK(controller_->StopPodSandbox(id));
  ASSERT_OK(controller_->StopPodSandbox(id));  // idempotent
  ASSERT_OK_AND_ASSIGN(status, controller_->PodSandboxStatus(id, false));
  EXPECT_EQ(status.state, SandboxState::kNotReady);
  EXPECT_EQ(status.ip, "");  // the lease is released: no stale address
  EXPECT_EQ(::kill(pod.pid, 0), -1);
  EXPECT_NE(::access(pod.netns.c_str(), F_OK), 0);

  ASSERT_OK(controller_->RemovePodSandbox(id));
  ASSERT_OK(controller_->RemovePodSandbox(id));  // idempotent
  EXPECT_THAT(controller_->PodSandboxStatus(id, false),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(controller_->ListPodSandbox({}), IsEmpty());
}

// A pod with its own IPC namespace gets one /dev/shm tmpfs for its
// containers, writable by the pod's root, kept by Stop, gone at Remove.
TEST_F(ControllerTest, PodShmIsATmpfsOfThePodsRootUntilRemove) {
  ASSERT_OK(Start(sys_));
  ASSERT_OK_AND_ASSIGN(std::string id,
                       controller_->RunPodSandbox(Pod("shm", true), ""));
  std::string shm = Inspect(id).info.value("shmPath", "");
  EXPECT_EQ(shm, state_ + "/shm/" + id);
  struct statfs fs;
  ASSERT_EQ(::statfs(shm.c_str(), &fs), 0);
  EXPECT_EQ(fs.f_type, TMPFS_MAGIC);
  EXPECT_EQ(fs.f_blocks * fs.f_bsize, 64u << 20);
  EXPECT_EQ(fs.f_flags & (ST_NOSUID | ST_NODEV | ST_NOEXEC),
            ST_NOSUID | ST_NODEV | ST_NOEXEC);
  struct stat st;
  ASSERT_EQ(::stat(shm.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 200000u);
  EXPECT_EQ(st.st_gid, 200000u);
  EXPECT_EQ(st.st_mode & 07777, 01777u);

  ASSERT_OK(controller_->StopPodSandbox(id));
  ASSERT_EQ(::statfs(shm.c_str(), &fs), 0);
  EXPECT_EQ(fs.f_type, TMPFS_MAGIC);
  ASSERT_OK(controller_->RemovePodSandbox(id));
  EXPECT_NE(::access(shm.c_str(), F_OK), 0);
}

// A pod in the host's IPC namespace starts (on a host whose /dev/mqueue
// is not mounted too: oci::KernelMounts binds it only when it is), and
// gets no shm tmpfs of its own: its containers use the host's /dev/shm.
TEST_F(ControllerTest, HostIpcPodRunsWithoutAShmOfItsOwn) {
  ASSERT_OK(Start(sys_));
  PodConfig config = Pod("hostipc", false);
  config.namespaces.ipc = NamespaceMode::kNode;
  ASSERT_OK_AND_ASSIGN(std::string id, controller_->RunPodSandbox(config, ""));
  Inspected pod = Inspect(id);
  ASSERT_GT(pod.pid, 0);
  EXPECT_FALSE(pod.info.contains("shmPath"));
  EXPECT_EQ(*netns::IdOfPath(absl::StrCat("/proc/", pod.pid, "/ns/ipc")),
            *netns::IdOfPath("/proc/self/ns/ipc"));
  EXPECT_THAT(sys::ListDir(state_ + "/shm"), IsOkAndHolds(IsEmpty()));
  ASSERT_OK(controller_->RemovePodSandbox(id));
}

TEST_F(ControllerTest, PodWithoutUserNamespaceAndHostNetworkPod) {
  ASSERT_OK(Start(sys_));
  ASSERT_OK_AND_ASSIGN(std::string plain,
                       controller_->RunPodSandbox(Pod("plain", false), ""));
  Inspected pod = Inspect(plain);
  EXPECT_EQ(*netns::IdOfPath(absl::StrCat("/proc/", pod.pid, "/ns/user")),
            *netns::IdOfPath("/proc/self/ns/user"));

  PodConfig host = Pod("host", true);
  host.namespaces.network = NamespaceMode::kNode;
  host.dns = {};
  ASSERT_OK_AND_ASSIGN(std::string hostnet,
                       controller_->RunPodSandbox(host, ""));
  ASSERT_OK_AND_ASSIGN(SandboxStatus status,
                       controller_->PodSandboxStatus(hostnet, false));
  EXPECT_EQ(status.ip, "");  // no CNI for host network
  Inspected host_pod = Inspect(hostnet);
  EXPECT_EQ(*netns::IdOfPath(absl::StrCat("/proc/", host_pod.pid, "/ns/net")),
            *netns::IdOfPath("/proc/self/ns/net"));
  EXPECT_THAT(userns::ReadProcessMaps(host_pod.pid), IsOkAndHolds(kMappings));

  EXPECT_THAT(controller_->ListPodSandbox({}), SizeIs(2));
  ListFilter by_id;
  by_id.id = hostnet;
  EXPECT_THAT(controller_->ListPodSandbox(by_id), SizeIs(1));
  for (const std::string& id : {plain, hostnet}) {
    ASSERT_OK(controller_->RemovePodSandbox(id));
  }
}

TEST_F(ControllerTest, PortMappingAndSysctlReachThePod) {
  ASSERT_OK(Start(sys_));
  PodConfig config = Pod("ports", true);
  config.port_mappings = {{Protocol::kTcp, 80, 18080, ""}};
  config.sysctls = {{"net.ipv4.ip_unprivileged_port_start", "0"}};
  ASSERT_OK_AND_ASSIGN(std::string id, controller_->RunPodSandbox(config, ""));
  Inspected pod = Inspect(id);
  EXPECT_THAT(Iptables("nat"), HasSubstr("--dport 18080"));
  // /proc/sys/net shows the opener's netns: read it from inside the pod's.
  ASSERT_OK_AND_ASSIGN(sys::UniqueFd netns,
                       netns::OpenNamespace(real_, pod.netns));
  std::string value;
  ASSERT_OK(netns::RunInNetns(real_, netns.get(), [&value]() -> absl::Status {
    ASSIGN_OR_RETURN(
        value, sys::ReadFile("/proc/sys/net/ipv4/ip_unprivileged_port_start"));
    return absl::OkStatus();
  }));
  EXPECT_EQ(value, "0\n");
  ASSERT_OK(controller_->StopPodSandbox(id));
  EXPECT_THAT(Iptables("nat"), ::testing::Not(HasSubstr("--dport 18080")));
  ASSERT_OK(controller_->RemovePodSandbox(id));
}

// CNI ADD before the runtime's create, as a pod with net.* sysctls always
// gets it (those sysctls may name eth0, which must exist at create), and as
// every pod gets it with the overlap turned off.
TEST_F(ControllerTest, NetworkBeforeCreateRunsToo) {
  for (bool overlap : {false, true}) {
    SCOPED_TRACE(overlap ? "overlap allowed" : "overlap off");
    overlap_network_with_create_ = overlap;
    ASSERT_OK(Start(sys_));
    PodConfig config = Pod("sequential", true);
    config.sysctls = {{"net.ipv4.conf.eth0.arp_ignore", "1"}};
    ASSERT_OK_AND_ASSIGN(std::string id,
                         controller_->RunPodSandbox(config, ""));
    ASSERT_OK_AND_ASSIGN(SandboxStatus status,
                         controller_->PodSandboxStatus(id, false));
    EXPECT_THAT(status.ip, StartsWith(kSubnetPrefix));
    ASSERT_OK(controller_->RemovePodSandbox(id));
  }
}

// The pause's kill fails (a runc whose kill fails while a marker file
// exists) beside CNI DEL on Stop: Stop returns the kill's error, the pause
// survives, and the namespaces stay. With the overlap, DEL has run beside
// the kill: lease, cache entry and eth0 are gone, so the survivor has no
// address to use (docs/design.md, "Overlap of the pause's kill and CNI
// DEL"); without it, DEL waits for the kill, so all three stay. Either way
// the next Stop finishes and Remove leaves nothing (the fixture checks).
TEST_F(ControllerTest, KillFailingBesideCniDelLeavesThePauseWithoutANetwork) {
  const std::string fail_kill = dir_.Sub("fail-kill");
  const std::string runc = dir_.Sub("runc-failing-kill");
  ASSERT_OK(sys::WriteFileAtomically(
      real_, runc,
      absl::StrCat("#!/bin/sh\n"
                   "for a in \"$@\"; do\n"
                   "  if [ \"$a\" = kill ] && [ -e ",
                   fail_kill,
                   " ]; then\n"
                   "    echo 'fake kill failure' >&2; exit 1\n"
                   "  fi\n"
                   "done\n"
                   "exec /usr/sbin/runc \"$@\"\n"),
      0755));
  oci::RuntimeHandler handler;
  handler.name = "runc";
  handler.type = oci::RuntimeType::kRunc;
  handler.path = runc;
  runtime_handlers_ = {handler};
  auto leases = [this] {
    std::vector<std::string> out;
    for (const std::string& name : sys::ListDir(ipam_dir_ + "/psbtest")
                                       .value_or(std::vector<std::string>())) {
      if (absl::StartsWith(name, kSubnetPrefix)) out.push_back(name);
    }
    return out;
  };
  for (bool overlap : {true, false}) {
    SCOPED_TRACE(overlap ? "kill beside DEL" : "kill, then DEL");
    overlap_kill_with_network_delete_ = overlap;
    ASSERT_OK(Start(sys_));
    ASSERT_OK_AND_ASSIGN(std::string id,
                         controller_->RunPodSandbox(Pod("killfail", true), ""));
    const Inspected pod = Inspect(id);
    ASSERT_GT(pod.pid, 0);
    const std::string cache =
        absl::StrCat(root_, "/cni/results/psbtest-", id, "-eth0");
    const std::string net_dev = absl::StrCat("/proc/", pod.pid, "/net/dev");
    ASSERT_THAT(leases(), SizeIs(1));
    ASSERT_THAT(sys::ReadFile(net_dev), IsOkAndHolds(HasSubstr("eth0:")));

    ASSERT_OK(sys::WriteFileAtomically(real_, fail_kill, "", 0644));
    absl::Status stopped = controller_->StopPodSandbox(id);
    EXPECT_FALSE(stopped.ok());
    EXPECT_THAT(std::string(stopped.message()), HasSubstr("fake kill failure"));
    EXPECT_EQ(::kill(pod.pid, 0), 0) << "the pause should have survived";
    EXPECT_EQ(::access(pod.netns.c_str(), F_OK), 0) << "netns unpinned";
    if (overlap) {
      EXPECT_THAT(leases(), IsEmpty());
      EXPECT_NE(::access(cache.c_str(), F_OK), 0);
      EXPECT_THAT(sys::ReadFile(net_dev),
                  IsOkAndHolds(::testing::Not(HasSubstr("eth0:"))));
    } else {
      EXPECT_THAT(leases(), SizeIs(1));
      EXPECT_EQ(::access(cache.c_str(), F_OK), 0);
      EXPECT_THAT(sys::ReadFile(net_dev), IsOkAndHolds(HasSubstr("eth0:")));
    }

    ASSERT_EQ(::unlink(fail_kill.c_str()), 0);
    EXPECT_OK(controller_->StopPodSandbox(id));
    EXPECT_NE(::kill(pod.pid, 0), 0);
    EXPECT_THAT(leases(), IsEmpty());
    EXPECT_OK(controller_->RemovePodSandbox(id));
    EXPECT_THAT(controller_->ListPodSandbox({}), IsEmpty());
  }
}

TEST_F(ControllerTest, BadRequestsAreRefusedBeforeAnySideEffect) {
  ASSERT_OK(Start(sys_));
  PodConfig no_uid = Pod("x", true);
  no_uid.metadata.uid = "";
  EXPECT_THAT(controller_->RunPodSandbox(no_uid, ""),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("config.metadata.uid")));
  EXPECT_THAT(controller_->RunPodSandbox(Pod("x", true), "/usr/sbin/runc"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("runtime_handler")));
  EXPECT_THAT(controller_->RunPodSandbox(Pod("x", true), "nosuch"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("runtime_handler")));
  EXPECT_THAT(controller_->ListPodSandbox({}), IsEmpty());
}

TEST_F(ControllerTest, SameRequestGetsTheSameIdAndADifferentOneIsRefused) {
  ASSERT_OK(Start(sys_));
  ASSERT_OK_AND_ASSIGN(std::string id,
                       controller_->RunPodSandbox(Pod("retry", true), ""));
  EXPECT_THAT(controller_->RunPodSandbox(Pod("retry", true), ""),
              IsOkAndHolds(id));
  PodConfig changed = Pod("retry", true);
  changed.hostname = "other";
  EXPECT_THAT(controller_->RunPodSandbox(changed, ""),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr(id)));
  ASSERT_OK(controller_->RemovePodSandbox(id));
  // Removal frees the name.
  ASSERT_OK_AND_ASSIGN(std::string again,
                       controller_->RunPodSandbox(changed, ""));
  EXPECT_NE(again, id);
  ASSERT_OK(controller_->RemovePodSandbox(again));
}

TEST_F(ControllerTest, PauseKilledFromOutsideTurnsNotReady) {
  ASSERT_OK(Start(sys_));
  ASSERT_OK_AND_ASSIGN(std::string id,
                       controller_->RunPodSandbox(Pod("victim", true), ""));
  Inspected pod = Inspect(id);
  ASSERT_EQ(::kill(pod.pid, SIGKILL), 0);
  EXPECT_TRUE(BecomesNotReady(id, absl::Seconds(10)));
  ASSERT_OK(controller_->RemovePodSandbox(id));
}

TEST_F(ControllerTest, ReadySandboxesSurviveARestartWithTheirIps) {
  ASSERT_OK(Start(sys_));
  ASSERT_OK_AND_ASSIGN(std::string id,
                       controller_->RunPodSandbox(Pod("durable", true), ""));
  ASSERT_OK_AND_ASSIGN(SandboxStatus before,
                       controller_->PodSandboxStatus(id, false));
  pid_t pid = Inspect(id).pid;
  ASSERT_OK(Start(sys_));  // a new controller on the same dirs
  ASSERT_OK_AND_ASSIGN(SandboxStatus after,
                       controller_->PodSandboxStatus(id, false));
  EXPECT_EQ(after.state, SandboxState::kReady);
  EXPECT_EQ(after.ip, before.ip);
  EXPECT_EQ(Inspect(id).pid, pid);
  // Re-watched: an exit is still noticed.
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  EXPECT_TRUE(BecomesNotReady(id, absl::Seconds(10)));
  ASSERT_OK(controller_->RemovePodSandbox(id));
}

// A sandbox whose record is gone (lost, or written by an older daemon that
// crashed first): everything it left is collected at the next start.
TEST_F(ControllerTest, LeftoversWithNoRecordAreCollectedAtStart) {
  ASSERT_OK(Start(sys_));
  ASSERT_OK_AND_ASSIGN(std::string id,
                       controller_->RunPodSandbox(Pod("orphan", true), ""));
  pid_t pid = Inspect(id).pid;
  controller_.reset();
  ASSERT_EQ(::unlink((root_ + "/sandboxes/" + id + ".json").c_str()), 0);
  ASSERT_OK(Start(sys_));
  EXPECT_THAT(controller_->ListPodSandbox({}), IsEmpty());
  // The pause went with its runtime state; the fixture checks the pins,
  // CNI cache, lease, bundle, pod files and the shm tmpfs (mountinfo).
  absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (::kill(pid, 0) == 0 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_NE(::kill(pid, 0), 0);
}

TEST_F(ControllerTest, SecondControllerOnTheSameRootIsRefused) {
  ASSERT_OK(Start(sys_));
  EXPECT_THAT(Controller::Create(sys_, Options()),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("another podsandbox controller")));
}

TEST_F(ControllerTest, TwentyPodsInParallel) {
  ASSERT_OK(Start(sys_));
  constexpr int kPods = 20;
  std::array<absl::StatusOr<std::string>, kPods> ids;
  std::vector<std::thread> threads;
  for (int i = 0; i < kPods; ++i) {
    threads.emplace_back([&, i] {
      ids[i] = controller_->RunPodSandbox(Pod(absl::StrCat("p", i), i % 2), "");
    });
  }
  for (std::thread& t : threads) t.join();
  threads.clear();
  for (int i = 0; i < kPods; ++i) ASSERT_OK(ids[i].status()) << i;
  EXPECT_THAT(controller_->ListPodSandbox({}), SizeIs(kPods));
  // Ids resolve by unique prefix, as crictl users type them; 20 ids over 16
  // hex digits share a first digit, which is then ambiguous.
  EXPECT_THAT(controller_->PodSandboxStatus(ids[0]->substr(0, 13), false),
              IsOkAndHolds(::testing::Field(&SandboxStatus::id, *ids[0])));
  ListFilter by_prefix;
  by_prefix.id = ids[1]->substr(0, 13);
  EXPECT_THAT(controller_->ListPodSandbox(by_prefix), SizeIs(1));
  std::map<char, int> first_digits;
  for (int i = 0; i < kPods; ++i) ++first_digits[(*ids[i])[0]];
  for (const auto& [digit, count] : first_digits) {
    if (count < 2) continue;
    EXPECT_THAT(controller_->PodSandboxStatus(std::string(1, digit), false),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr("prefix of several")));
    EXPECT_THAT(controller_->StopPodSandbox(std::string(1, digit)),
                StatusIs(absl::StatusCode::kInvalidArgument));
    break;
  }
  for (int i = 0; i < kPods; ++i) {
    threads.emplace_back(
        [&, i] { EXPECT_OK(controller_->RemovePodSandbox(*ids[i])); });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_THAT(controller_->ListPodSandbox({}), IsEmpty());
}

TEST_F(ControllerTest, StopAndRemoveRacingOnOneSandbox) {
  ASSERT_OK(Start(sys_));
  ASSERT_OK_AND_ASSIGN(std::string id,
                       controller_->RunPodSandbox(Pod("race", true), ""));
  std::vector<std::thread> threads;
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&, i] {
      EXPECT_OK(i % 2 ? controller_->StopPodSandbox(id)
                      : controller_->RemovePodSandbox(id));
    });
  }
  for (std::thread& t : threads) t.join();
  ASSERT_OK(controller_->RemovePodSandbox(id));
  EXPECT_THAT(controller_->ListPodSandbox({}), IsEmpty());
}

// What differs from `before`, polled until nothing does or a deadline
// passes: a pause killed before it was watched is reaped by the
// subreaper's periodic scan, not at once.
std::string SettledDifferences(const sys::HostSnapshot& before,
                               const std::vector<std::string>& watched) {
  absl::Time deadline = absl::Now() + absl::Seconds(5);
  std::string diff;
  do {
    diff = sys::DescribeDifferences(before, sys::HostSnapshot::Take(watched));
    if (diff.empty()) break;
    absl::SleepFor(absl::Milliseconds(50));
  } while (absl::Now() < deadline);
  return diff;
}

// Faults that RunPodSandbox survives by design, by call and nth as the
// pipeline makes them (both in the namespaces step, which runs before ADD
// and the runtime overlap, so their order is fixed on both paths), with the
// calls of that kind the survival adds. Every other fault fails the call.
struct AbsorbedFault {
  SysCall call;
  int nth;
  int extra_calls;
};
constexpr AbsorbedFault kAbsorbedFaults[] = {
    // The namespace helper's SIGKILL (the 1st is CheckAlive's signal 0):
    // closing the hold pipe ends the helper anyway; the kill only makes it
    // prompt, and its reap still succeeds.
    {SysCall::kPidfdSendSignal, 2, 0},
    // The helper's reap, the run's first waitid: it is retried (the helper's
    // stack must not be freed under a live task), and the retry reaps it.
    {SysCall::kWaitid, 1, 1},
};

const AbsorbedFault* FindAbsorbed(SysCall call, int nth) {
  for (const AbsorbedFault& f : kAbsorbedFaults) {
    if (f.call == call && f.nth == nth) return &f;
  }
  return nullptr;
}

// Every syscall RunPodSandbox makes through Sys, failed in turn with EIO:
// the fault fires (FaultySys says so), the call fails naming the errno
// (or the fault is one of kAbsorbedFaults and the pod runs), and nothing
// is left: no record, mount, pin, link, IPAM lease, bundle, pod file,
// runtime state, process, cgroup or iptables rule.
//
// The counts come from a probe on the same path. Each run, the probe's
// and every iteration's, gets a fresh controller: the CNI executor asks
// each plugin VERSION once per binary, so on a reused one the iterations
// would make fewer calls than the probe counted and the last faults would
// fire nowhere (and a failed VERSION would never be tested).
void ControllerTest::RunFaultLoop(const PodConfig& config) {
  // The first run makes what outlives pods (the state subdirectories, the
  // bridge), so it makes more calls; the next two must agree, or the
  // counts predict nothing.
  std::array<sys::CallCounts, 3> probes;
  for (sys::CallCounts& counts : probes) {
    ASSERT_OK(Start(sys_));
    std::string id;
    counts = sys::CountCalls(sys_, [&] {
      absl::StatusOr<std::string> run = controller_->RunPodSandbox(config, "");
      ASSERT_OK(run.status());
      id = *run;
    });
    ASSERT_OK(controller_->RemovePodSandbox(id));
  }
  const sys::CallCounts& counts = probes[2];
  for (int c = 0; c < sys::kSysCallCount; ++c) {
    ASSERT_EQ(probes[1][c], counts[c])
        << sys::SysCallName(static_cast<SysCall>(c))
        << " calls differ between two identical runs";
  }
  for (SysCall call : {SysCall::kOpen, SysCall::kMount, SysCall::kClone,
                       SysCall::kPipe2, SysCall::kPosixSpawn}) {
    ASSERT_GE(counts[static_cast<int>(call)], 1) << sys::SysCallName(call);
  }
  for (const AbsorbedFault& f : kAbsorbedFaults) {
    // An entry past the count would excuse nothing and hide a change.
    ASSERT_LE(f.nth, counts[static_cast<int>(f.call)])
        << sys::SysCallName(f.call);
  }

  const std::vector<std::string> watched = Watched();
  sys::HostSnapshot before = sys::HostSnapshot::Take(watched);
  const std::string eio = std::strerror(EIO);
  absl::StatusOr<std::string> id;
  sys::ForEachFault(
      sys_, counts, EIO,
      // A fresh controller per run: see above.
      [&](const sys::Fault&) { ASSERT_OK(Start(sys_)); },
      [&](const sys::Fault&) { id = controller_->RunPodSandbox(config, ""); },
      [&](const sys::Fault& fault) {
        SCOPED_TRACE(id.status().ToString());
        if (const AbsorbedFault* absorbed =
                FindAbsorbed(fault.call, fault.nth)) {
          EXPECT_OK(id.status());
          EXPECT_EQ(fault.made, counts[static_cast<int>(fault.call)] +
                                    absorbed->extra_calls);
          if (id.ok()) {
            EXPECT_THAT(controller_->PodSandboxStatus(*id, false),
                        IsOkAndHolds(::testing::Field(&SandboxStatus::state,
                                                      SandboxState::kReady)));
          }
        } else {
          EXPECT_THAT(std::string(id.status().message()), HasSubstr(eio));
        }
        if (id.ok()) EXPECT_OK(controller_->RemovePodSandbox(*id));
        EXPECT_THAT(controller_->ListPodSandbox({}), IsEmpty());
        EXPECT_EQ(SettledDifferences(before, watched), "");
      });
}

TEST_F(ControllerTest, EveryFailingSyscallRollsBackWithOverlappedAdd) {
  ASSERT_NO_FATAL_FAILURE(RunFaultLoop(Pod("faulty", true)));
}

// A net.* sysctl makes ADD run before the runtime's create.
TEST_F(ControllerTest, EveryFailingSyscallRollsBackWithSequentialAdd) {
  PodConfig config = Pod("faulty", true);
  config.sysctls = {{"net.ipv4.conf.eth0.arp_ignore", "1"}};
  ASSERT_NO_FATAL_FAILURE(RunFaultLoop(config));
}

TEST_F(ControllerTest, FailingHangingAndGarbagePluginsRollBack) {
  ASSERT_OK(Start(sys_));
  for (const char* fake : {"fake-error", "fake-hang", "fake-garbage"}) {
    SCOPED_TRACE(fake);
    ASSERT_OK(WriteNetwork("bridge", fake));
    absl::StatusOr<std::string> id =
        controller_->RunPodSandbox(Pod("netfail", true), "");
    EXPECT_FALSE(id.ok());
    EXPECT_THAT(controller_->ListPodSandbox({}), IsEmpty());
  }
}

// A daemon killed after any step: the next controller rolls the sandbox
// back from its journal. The controller runs in a forked child that
// SIGKILLs itself right after the step's side effect.
TEST_F(ControllerTest, CrashAfterEachStepIsRolledBackAtRestart) {
  ASSERT_NO_FATAL_FAILURE(WarmUp());
  const std::vector<std::string> watched = Watched();
  sys::HostSnapshot before = sys::HostSnapshot::Take(watched);
  for (Step crash_after : {Step::kShm, Step::kNamespaces, Step::kNetwork,
                           Step::kPodFiles, Step::kTask}) {
    SCOPED_TRACE(StepName(crash_after));
    ASSERT_NO_FATAL_FAILURE(
        CrashChildAt("none", [crash_after](ControllerImpl& c) {
          c.SetStepHookForTesting([crash_after](Step step) {
            if (step == crash_after) ::kill(::getpid(), SIGKILL);
          });
          (void)c.RunPodSandbox(Pod("crash", true), "");
        }));
    ASSERT_OK(Start(real_));
    EXPECT_THAT(controller_->ListPodSandbox({}), IsEmpty());
    EXPECT_EQ(SettledDifferences(before, watched), "");
  }
}

// A daemon killed after a step's journal entry reached disk but before its
// side effect began: the next controller rolls back a step that did
// nothing (each undo takes "already gone" as done). On the overlapped path
// the pod files are journalled after the runtime's create.
TEST_F(ControllerTest, CrashBetweenJournalAndSideEffectIsRolledBackAtRestart) {
  ASSERT_NO_FATAL_FAILURE(WarmUp());
  const std::vector<std::string> watched = Watched();
  sys::HostSnapshot before = sys::HostSnapshot::Take(watched);
  PodConfig sequential = Pod("crash", true);
  sequential.sysctls = {{"net.ipv4.conf.eth0.arp_ignore", "1"}};
  for (const PodConfig& config : {Pod("crash", true), sequential}) {
    SCOPED_TRACE(config.sysctls.empty() ? "overlapped" : "sequential");
    for (Step step : {Step::kShm, Step::kNamespaces, Step::kNetwork,
                      Step::kPodFiles, Step::kTask}) {
      std::string point = absl::StrCat("journalled ", StepName(step));
      SCOPED_TRACE(point);
      ASSERT_NO_FATAL_FAILURE(CrashChildAt(point, [&config](ControllerImpl& c) {
        (void)c.RunPodSandbox(config, "");
      }));
      ASSERT_OK(Start(real_));
      EXPECT_THAT(controller_->ListPodSandbox({}), IsEmpty());
      EXPECT_EQ(SettledDifferences(before, watched), "");
    }
  }
}

// A daemon killed inside Stop or Remove: the sandbox is still listed after
// the restart, and Stop and Remove then finish the job.
TEST_F(ControllerTest, CrashInsideStopOrRemoveIsFinishedAfterRestart) {
  ASSERT_NO_FATAL_FAILURE(WarmUp());
  const std::vector<std::string> watched = Watched();
  sys::HostSnapshot before = sys::HostSnapshot::Take(watched);
  for (const char* point : {"stop: task stopped", "stop: network deleted",
                            "stop: namespaces removed", "remove: stopped",
                            "remove: undid task", "remove: undid pod_files"}) {
    SCOPED_TRACE(point);
    bool in_remove = absl::StartsWith(point, "remove");
    ASSERT_NO_FATAL_FAILURE(CrashChildAt(point, [in_remove](ControllerImpl& c) {
      absl::StatusOr<std::string> id = c.RunPodSandbox(Pod("crash", true), "");
      if (!id.ok()) return;
      (void)(in_remove ? c.RemovePodSandbox(*id) : c.StopPodSandbox(*id));
    }));
    ASSERT_OK(Start(real_));
    std::vector<SandboxStatus> listed = controller_->ListPodSandbox({});
    ASSERT_THAT(listed, SizeIs(1));
    EXPECT_OK(controller_->StopPodSandbox(listed[0].id));
    EXPECT_OK(controller_->RemovePodSandbox(listed[0].id));
    EXPECT_THAT(controller_->ListPodSandbox({}), IsEmpty());
    EXPECT_EQ(SettledDifferences(before, watched), "");
  }
}

// A daemon killed during recovery itself, then started again: the second
// recovery finishes what the first began. Both kinds of recovery work: the
// rollback of a sandbox killed mid-pipeline (killed after each undo, and
// before its record goes), and the collection of a sandbox whose record is
// gone.
TEST_F(ControllerTest, CrashDuringRecoveryIsFinishedByTheNextRecovery) {
  ASSERT_NO_FATAL_FAILURE(WarmUp());
  const std::vector<std::string> watched = Watched();
  sys::HostSnapshot before = sys::HostSnapshot::Take(watched);
  for (const char* point :
       {"recover: undid task", "recover: undid pod_files",
        "recover: undid network", "recover: undid namespaces",
        "recover: rolled back"}) {
    SCOPED_TRACE(point);
    // A sandbox killed right after its last step: all four to undo.
    ASSERT_NO_FATAL_FAILURE(CrashChildAt("none", [](ControllerImpl& c) {
      c.SetStepHookForTesting([](Step step) {
        if (step == Step::kTask) ::kill(::getpid(), SIGKILL);
      });
      (void)c.RunPodSandbox(Pod("crash", true), "");
    }));
    ASSERT_NO_FATAL_FAILURE(CrashChildAt(point, [](ControllerImpl&) {}));
    ASSERT_OK(Start(real_));
    EXPECT_THAT(controller_->ListPodSandbox({}), IsEmpty());
    EXPECT_EQ(SettledDifferences(before, watched), "");
  }
  for (const char* point :
       {"collect: pause tasks deleted", "collect: attachments deleted"}) {
    SCOPED_TRACE(point);
    ASSERT_OK(Start(real_));
    ASSERT_OK_AND_ASSIGN(std::string id,
                         controller_->RunPodSandbox(Pod("orphan", true), ""));
    controller_.reset();
    ASSERT_EQ(::unlink((root_ + "/sandboxes/" + id + ".json").c_str()), 0);
    ASSERT_NO_FATAL_FAILURE(CrashChildAt(point, [](ControllerImpl&) {}));
    ASSERT_OK(Start(real_));
    EXPECT_THAT(controller_->ListPodSandbox({}), IsEmpty());
    EXPECT_EQ(SettledDifferences(before, watched), "");
  }
}

// A plugin whose DEL keeps failing: Stop returns the error each time (so
// kubelet retries), Remove goes ahead once kMaxFailedCniDeletes DELs have
// failed and logs that it did, the CNI cache entry stays, and the next
// start DELs it once the plugin works.
TEST_F(ControllerTest, RemoveGivesUpOnFailingCniDelAndRestartRetriesIt) {
  std::string fail_del = dir_.Sub("fail-del");
  ASSERT_OK(sys::WriteFileAtomically(real_, fail_del, "", 0644));
  ASSERT_OK(
      WriteNetwork("bridge", "fake-del-error", {{"failDelFile", fail_del}}));
  ASSERT_OK(Start(sys_));
  auto cached = [this](const std::string& id) {
    return ::access(absl::StrCat(root_, "/cni/results/psbtest-", id, "-eth0")
                        .c_str(),
                    F_OK) == 0;
  };

  ASSERT_OK_AND_ASSIGN(std::string stopped,
                       controller_->RunPodSandbox(Pod("stopped", true), ""));
  for (int i = 0; i < kMaxFailedCniDeletes; ++i) {
    EXPECT_THAT(
        controller_->StopPodSandbox(stopped),
        StatusIs(absl::StatusCode::kUnknown, HasSubstr("fake DEL failure")));
  }
  absl::Status removed;
  std::string log = sys::testing::CaptureStderr(
      [&] { removed = controller_->RemovePodSandbox(stopped); });
  EXPECT_OK(removed);
  EXPECT_THAT(log,
              HasSubstr(absl::StrCat("giving up CNI DEL for pod=", stopped)));
  EXPECT_TRUE(cached(stopped));

  // Remove's own failed DELs count too: it refuses until the limit.
  ASSERT_OK_AND_ASSIGN(std::string removed_id,
                       controller_->RunPodSandbox(Pod("removed", true), ""));
  for (int i = 1; i < kMaxFailedCniDeletes; ++i) {
    EXPECT_THAT(
        controller_->RemovePodSandbox(removed_id),
        StatusIs(absl::StatusCode::kUnknown, HasSubstr("fake DEL failure")));
  }
  EXPECT_OK(controller_->RemovePodSandbox(removed_id));
  EXPECT_THAT(controller_->ListPodSandbox({}), IsEmpty());
  EXPECT_TRUE(cached(removed_id));

  // Fixed: the next start DELs both cached attachments (the fixture then
  // checks that nothing else is left either).
  ASSERT_EQ(::unlink(fail_del.c_str()), 0);
  ASSERT_OK(Start(sys_));
  EXPECT_FALSE(cached(stopped));
  EXPECT_FALSE(cached(removed_id));
}

// The builtin runtime (oci/builtin_runtime.h) through the whole controller:
// Run (CNI, pod files, the pause the daemon starts itself), a restart that
// re-attaches the pause by pid and start time, an outside kill that turns
// the sandbox NOTREADY, Stop and Remove; the fixture's leak check proves
// nothing is left.
TEST_F(ControllerTest, BuiltinPodSurvivesRestartAndIsRemoved) {
  oci::RuntimeHandler runc;
  runc.name = "runc";
  runc.type = oci::RuntimeType::kRunc;
  runc.path = "/usr/sbin/runc";
  oci::RuntimeHandler builtin;
  builtin.name = "builtin";
  builtin.type = oci::RuntimeType::kBuiltin;
  runtime_handlers_ = {runc, builtin};
  ASSERT_OK(Start(sys_));
  ASSERT_OK_AND_ASSIGN(std::string id, controller_->RunPodSandbox(
                                           Pod("builtin", true), "builtin"));
  const Inspected pod = Inspect(id);
  ASSERT_GT(pod.pid, 0);
  EXPECT_THAT(sys::ReadFile(absl::StrCat("/proc/", pod.pid, "/net/dev")),
              IsOkAndHolds(HasSubstr("eth0:")));

  ASSERT_OK(Start(sys_));  // a restart: recovery re-attaches the pause
  absl::StatusOr<SandboxStatus> status =
      controller_->PodSandboxStatus(id, /*verbose=*/false);
  ASSERT_OK(status.status());
  EXPECT_EQ(status->state, SandboxState::kReady);
  EXPECT_EQ(Inspect(id).pid, pod.pid);

  ASSERT_EQ(::kill(pod.pid, SIGKILL), 0);
  EXPECT_TRUE(BecomesNotReady(id, absl::Seconds(5)));
  ASSERT_OK(controller_->StopPodSandbox(id));
  ASSERT_OK(controller_->RemovePodSandbox(id));
}

// infra = "none" (docs/design.md, "Pods without a pause"): a pod without a
// pod-level PID namespace gets no process at all, only its pinned
// namespaces (UTS and IPC beside net and user, owned by the pod's user
// namespace, the hostname set in the UTS one). Status names the pins and
// no pid; a restart keeps it READY (nothing to re-attach); Stop unpins
// everything; Remove leaves nothing (the fixture's leak check).
TEST_F(ControllerTest, PodWithoutAPauseIsItsPinnedNamespaces) {
  oci::RuntimeHandler runc;
  runc.name = "runc";
  runc.type = oci::RuntimeType::kRunc;
  runc.path = "/usr/sbin/runc";
  runc.infra_none = true;
  runtime_handlers_ = {runc};
  ASSERT_OK(Start(sys_));
  PodConfig config = Pod("noinfra", true);
  config.namespaces.pid = NamespaceMode::kContainer;
  ASSERT_OK_AND_ASSIGN(std::string id, controller_->RunPodSandbox(config, ""));
  Inspected pod = Inspect(id);
  EXPECT_FALSE(pod.info.contains("pid")) << pod.info.dump();
  EXPECT_EQ(pod.info.value("infra", ""), "none");
  EXPECT_THAT(pod.info["steps"].dump(), ::testing::Not(HasSubstr("task")));
  const std::string uts = pod.info.value("utsNamespacePath", "");
  const std::string ipc = pod.info.value("ipcNamespacePath", "");
  const std::string userns = pod.info["userNamespace"].value("path", "");
  ASSERT_FALSE(uts.empty());
  ASSERT_FALSE(ipc.empty());
  // Owned by the pod's user namespace, as a pause's would be.
  for (const std::string& pin : {uts, ipc, pod.netns}) {
    ASSERT_OK_AND_ASSIGN(sys::UniqueFd fd, netns::OpenNamespace(real_, pin));
    ASSERT_OK_AND_ASSIGN(sys::UniqueFd owner,
                         netns::OwningUserNamespace(real_, fd.get()));
    EXPECT_THAT(netns::IdOf(owner.get()),
                IsOkAndHolds(*netns::IdOfPath(userns)))
        << pin;
  }
  // No bundle, no runtime state: nothing was started.
  EXPECT_NE(::access(absl::StrCat(state_, "/bundles/", id).c_str(), F_OK), 0);

  ASSERT_OK(Start(sys_));  // a restart: nothing to re-attach, still READY
  absl::StatusOr<SandboxStatus> status =
      controller_->PodSandboxStatus(id, /*verbose=*/false);
  ASSERT_OK(status.status());
  EXPECT_EQ(status->state, SandboxState::kReady);

  ASSERT_OK(controller_->StopPodSandbox(id));
  for (const std::string& pin : {uts, ipc, pod.netns, userns}) {
    EXPECT_NE(::access(pin.c_str(), F_OK), 0) << pin;
  }
  ASSERT_OK(controller_->RemovePodSandbox(id));
}

}  // namespace
}  // namespace podsandbox::sandbox
