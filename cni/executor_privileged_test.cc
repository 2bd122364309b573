// The executor with Debian's real plugins (bridge + host-local + portmap)
// against a network namespace owned by a fresh user namespace: what the
// kernel and iptables really hold after ADD and after DEL.
//
// Host changes are confined to: bridge psbtest0 on 10.233.71.0/24 (deleted
// in teardown), veths, host-local leases under the test's temp dir, portmap's
// nat rules and net.ipv4.ip_forward (bridge's isGateway sets it): see
// HostNetworkGuard, which puts them back; the nat table is then compared. No
// ipMasq, no routes off the machine.
#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "cni/executor.h"
#include "cni/testing/host_network_guard.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "netns/in_netns.h"
#include "netns/namespace_file.h"
#include "netns/namespaces.h"
#include "nlohmann/json.hpp"
#include "sys/file.h"
#include "sys/real_sys.h"
#include "sys/status.h"
#include "sys/subprocess.h"
#include "sys/testing/leak_check.h"
#include "sys/testing/status_matchers.h"
#include "sys/testing/temp_dir.h"

namespace podsandbox::cni {
namespace {

using json = nlohmann::json;
using ::podsandbox::sys::testing::StatusIs;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::UnorderedElementsAre;

constexpr char kBridge[] = "psbtest0";
constexpr char kSubnet[] = "10.233.71.0/24";
constexpr char kGateway[] = "10.233.71.1";
constexpr char kNetwork[] = "psbtest";

// userns::IdMappings comes with netns/namespaces.h, whose API takes it
// (cni/ may not depend on userns/ directly).
const userns::IdMappings kMappings = {{{0, 100000, 65536}},
                                      {{0, 100000, 65536}}};

std::string FakePluginDir() {
  char cwd[4096];
  return absl::StrCat(::getcwd(cwd, sizeof(cwd)), "/testdata/cni/plugins");
}

std::vector<std::string> Lines(const std::string& text) {
  return absl::StrSplit(text, '\n', absl::SkipEmpty());
}

absl::StatusOr<std::string> RunTool(sys::Sys& sys,
                                    std::vector<std::string> args) {
  return HostNetworkGuard::RunTool(sys, std::move(args));
}

bool LinkExists(const std::string& name) {
  return ::access(absl::StrCat("/sys/class/net/", name).c_str(), F_OK) == 0;
}

// Whether `name` is gone within `timeout`. For a veth whose peer's netns
// was destroyed: the kernel deletes the pair from a workqueue after the
// netns's last reference goes (about 100 ms on this test host), not
// synchronously.
bool LinkGoneWithin(const std::string& name, absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  while (LinkExists(name)) {
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return true;
}

// What eth0 looks like from inside the pod's netns.
struct PodView {
  std::string address;        // "10.233.71.2"
  std::string default_route;  // gateway of the default route via eth0
};

absl::StatusOr<PodView> LookInside(sys::Sys& sys, const std::string& pin) {
  ASSIGN_OR_RETURN(sys::UniqueFd ns, netns::OpenNamespace(sys, pin));
  PodView view;
  RETURN_IF_ERROR(netns::RunInNetns(sys, ns.get(), [&]() -> absl::Status {
    sys::UniqueFd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!sock.valid()) return sys::ErrnoError(errno, "socket");
    struct ifreq req = {};
    std::strncpy(req.ifr_name, "eth0", IFNAMSIZ - 1);
    if (::ioctl(sock.get(), SIOCGIFADDR, &req) != 0) {
      return sys::ErrnoError(errno, "SIOCGIFADDR eth0");
    }
    char buf[INET_ADDRSTRLEN];
    auto* sin = reinterpret_cast<struct sockaddr_in*>(&req.ifr_addr);
    view.address = ::inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof(buf));
    // thread-self: /proc/self/net would show the main thread's netns.
    ASSIGN_OR_RETURN(std::string routes,
                     sys::ReadFile("/proc/thread-self/net/route"));
    for (const std::string& line : Lines(routes)) {
      std::vector<std::string> f =
          absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
      if (f.size() > 7 && f[0] == "eth0" && f[1] == "00000000" &&
          f[7] == "00000000") {
        struct in_addr gw;
        gw.s_addr = static_cast<in_addr_t>(std::stoul(f[2], nullptr, 16));
        view.default_route = ::inet_ntop(AF_INET, &gw, buf, sizeof(buf));
      }
    }
    return absl::OkStatus();
  }));
  return view;
}

class ExecutorPrivilegedTest : public sys::LeakCheckedTest {
 protected:
  void SetUp() override {
    WatchDirectory(ipam_dir_);
    WatchDirectory(cache_dir_);
    guard_.emplace(sys_, kBridge);
    LeakCheckedTest::SetUp();
    ASSERT_OK(factory_.Init());
    ASSERT_OK(sys::MakeDirs(sys_, conf_dir_, 0755));
  }

  void TearDown() override {
    LeakCheckedTest::TearDown();
    EXPECT_EQ(Nat(), guard_->nat_before()) << "the nat table changed";
  }

  // Runs even after a failed ASSERT: undo whatever a test left, in the order
  // a real teardown would (DEL, netns), then what the plugins leave on
  // purpose (the bridge, portmap's top-level chains, ip_forward, host-local's
  // lock files).
  void CleanUpTestFixtures() override {
    for (const std::string& id : pods_) {
      Attachment a;
      a.container_id = id;
      // Best effort: the test has already failed if this is needed.
      executor_.Del(a).IgnoreError();
      factory_.Remove(id).IgnoreError();
    }
    EXPECT_OK(guard_->Restore());
    sys::RemoveTree(sys_, ipam_dir_).IgnoreError();
    netns::UnmountPinDirs(sys_, dir_.path() + "/pins").IgnoreError();
  }

  // bridge (+ host-local) then portmap, or then `next` instead of portmap.
  void WriteConfig(const std::string& next = "portmap") {
    json bridge = {{"type", "bridge"},
                   {"bridge", kBridge},
                   {"isGateway", true},
                   {"ipMasq", false},
                   {"hairpinMode", true},
                   {"ipam",
                    {{"type", "host-local"},
                     {"dataDir", ipam_dir_},
                     {"ranges", {{{{"subnet", kSubnet}}}}},
                     {"routes", {{{"dst", "0.0.0.0/0"}}}}}}};
    json second = {{"type", next},
                   {"capabilities", {{"portMappings", true}}},
                   {"pidFile", dir_.Sub("pids")}};
    json list = {{"cniVersion", "1.0.0"},
                 {"name", kNetwork},
                 {"plugins", {bridge, second}}};
    ASSERT_OK(sys::WriteFileAtomically(sys_, conf_dir_ + "/10-test.conflist",
                                       list.dump(), 0644));
  }

  // A userns-owned netns pinned for `id`, and the attachment for it.
  absl::StatusOr<Attachment> NewPod(const std::string& id) {
    pods_.push_back(id);
    ASSIGN_OR_RETURN(netns::PinnedNamespaces ns,
                     factory_.Create(id, &kMappings));
    Attachment a;
    a.container_id = id;
    a.netns = ns.netns;
    a.pod_namespace = "default";
    a.pod_name = id;
    a.pod_uid = absl::StrCat("uid-", id);
    return a;
  }

  std::string LeasePath(const std::string& ip) const {
    return absl::StrCat(ipam_dir_, "/", kNetwork, "/", ip);
  }

  // The host side of the pod's veth pair, from the result.
  static std::string HostVeth(const Result& r) {
    for (const Interface& i : r.interfaces) {
      if (i.sandbox.empty() && i.name != kBridge) return i.name;
    }
    return "";
  }

  bool Cached(const std::string& id) const {
    return ::access(
               absl::StrCat(cache_dir_, "/results/", kNetwork, "-", id, "-eth0")
                   .c_str(),
               F_OK) == 0;
  }

  std::string Nat() { return guard_->NatRules().value_or("iptables failed"); }

  sys::RealSys sys_;
  sys::TempDir dir_;
  std::string conf_dir_ = dir_.Sub("net.d");
  std::string cache_dir_ = dir_.Sub("cache");
  std::string ipam_dir_ = dir_.Sub("ipam");
  std::optional<HostNetworkGuard> guard_;
  std::vector<std::string> pods_;
  netns::NamespaceFactory factory_{sys_, dir_.Sub("pins")};
  Executor executor_{sys_,
                     conf_dir_,
                     {FakePluginDir(), "/usr/lib/cni"},
                     cache_dir_,
                     absl::Seconds(30)};
};

TEST_F(ExecutorPrivilegedTest, AddConfiguresEth0AndDelRemovesVethAndLease) {
  WriteConfig();
  ASSERT_OK(executor_.Ready());
  ASSERT_OK_AND_ASSIGN(Attachment pod, NewPod("pod1"));
  ASSERT_OK_AND_ASSIGN(Result result, executor_.Add(pod));

  ASSERT_EQ(result.ips.size(), 1u);
  EXPECT_EQ(result.ips[0].gateway, kGateway);
  ASSERT_EQ(result.PodIps().size(), 1u);
  std::string ip = result.PodIps()[0];
  EXPECT_TRUE(absl::StartsWith(ip, "10.233.71.")) << ip;
  ASSERT_OK_AND_ASSIGN(PodView inside, LookInside(sys_, pod.netns));
  EXPECT_EQ(inside.address, ip);
  EXPECT_EQ(inside.default_route, kGateway);
  std::string veth = HostVeth(result);
  ASSERT_FALSE(veth.empty()) << result.raw_json;
  EXPECT_TRUE(LinkExists(veth));
  EXPECT_TRUE(LinkExists(kBridge));
  EXPECT_TRUE(sys::ReadFile(LeasePath(ip)).ok());
  EXPECT_TRUE(Cached("pod1"));

  ASSERT_OK(executor_.Del(pod));
  EXPECT_FALSE(LinkExists(veth));
  EXPECT_THAT(sys::ReadFile(LeasePath(ip)),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_FALSE(Cached("pod1"));
  // DEL again: nothing cached, everything already gone.
  ASSERT_OK(executor_.Del(pod));
  ASSERT_OK(factory_.Remove("pod1"));
}

TEST_F(ExecutorPrivilegedTest, DelWithoutCacheStillReleasesTheLease) {
  WriteConfig();
  ASSERT_OK_AND_ASSIGN(Attachment pod, NewPod("pod2"));
  ASSERT_OK_AND_ASSIGN(Result result, executor_.Add(pod));
  std::string ip = result.PodIps()[0];
  std::string veth = HostVeth(result);
  // As if the daemon died after the plugins ran but before the cache write.
  ASSERT_OK(sys::RemoveFileIfExists(
      sys_, absl::StrCat(cache_dir_, "/results/", kNetwork, "-pod2-eth0")));
  ASSERT_OK(executor_.Del(pod));
  EXPECT_FALSE(LinkExists(veth));
  EXPECT_FALSE(sys::ReadFile(LeasePath(ip)).ok());
  ASSERT_OK(factory_.Remove("pod2"));
}

TEST_F(ExecutorPrivilegedTest, DelAfterTheNetnsIsGoneSucceeds) {
  WriteConfig();
  ASSERT_OK_AND_ASSIGN(Attachment pod, NewPod("pod3"));
  ASSERT_OK_AND_ASSIGN(Result result, executor_.Add(pod));
  std::string ip = result.PodIps()[0];
  ASSERT_OK(factory_.Remove("pod3"));
  ASSERT_OK(executor_.Del(pod));
  EXPECT_FALSE(sys::ReadFile(LeasePath(ip)).ok());
  EXPECT_TRUE(LinkGoneWithin(HostVeth(result), absl::Seconds(10)));
  EXPECT_FALSE(Cached("pod3"));
}

TEST_F(ExecutorPrivilegedTest, PortMappingAddsDnatRulesAndDelRemovesThem) {
  WriteConfig();
  ASSERT_OK_AND_ASSIGN(Attachment pod, NewPod("pod4"));
  pod.port_mappings = {{18080, 80, "tcp", ""}, {18053, 53, "udp", ""}};
  ASSERT_OK_AND_ASSIGN(Result result, executor_.Add(pod));
  std::string ip = result.PodIps()[0];
  std::string nat = Nat();
  EXPECT_THAT(nat,
              AllOf(HasSubstr("--dport 18080"),
                    HasSubstr(absl::StrCat("--to-destination ", ip, ":80")),
                    HasSubstr("--dport 18053"),
                    HasSubstr(absl::StrCat("--to-destination ", ip, ":53"))));
  // DEL gets the port mappings from the cache, not from the caller.
  Attachment del;
  del.container_id = pod.container_id;
  del.netns = pod.netns;
  ASSERT_OK(executor_.Del(del));
  nat = Nat();
  EXPECT_THAT(nat, Not(HasSubstr("--dport 18080")));
  EXPECT_THAT(nat, Not(HasSubstr("--dport 18053")));
  EXPECT_THAT(nat, Not(HasSubstr(ip)));
  ASSERT_OK(factory_.Remove("pod4"));
}

TEST_F(ExecutorPrivilegedTest, SecondPluginFailingRollsBackTheBridge) {
  WriteConfig("fake-error");
  ASSERT_OK_AND_ASSIGN(Attachment pod, NewPod("pod5"));
  EXPECT_THAT(executor_.Add(pod),
              StatusIs(absl::StatusCode::kUnknown,
                       HasSubstr("plugin fake-error ADD failed: code 7")));
  // bridge's DEL ran: its veth and its lease are gone.
  absl::StatusOr<std::string> leases =
      RunTool(sys_, {"/usr/bin/find", ipam_dir_, "-type", "f"});
  ASSERT_OK(leases.status());
  for (const std::string& file : Lines(*leases)) {
    EXPECT_THAT(file, ::testing::AnyOf(HasSubstr("/lock"),
                                       HasSubstr("/last_reserved_ip")));
  }
  ASSERT_OK_AND_ASSIGN(
      std::string links,
      RunTool(sys_, {"/usr/sbin/ip", "-o", "link", "show", "master", kBridge}));
  EXPECT_THAT(links, IsEmpty());
  EXPECT_FALSE(Cached("pod5"));
  ASSERT_OK(factory_.Remove("pod5"));
}

TEST_F(ExecutorPrivilegedTest, HungPluginIsKilledAndTheBridgeRolledBack) {
  WriteConfig("fake-hang");
  Executor executor(sys_, conf_dir_, {FakePluginDir(), "/usr/lib/cni"},
                    cache_dir_, absl::Seconds(2));
  ASSERT_OK_AND_ASSIGN(Attachment pod, NewPod("pod6"));
  EXPECT_THAT(executor.Add(pod), StatusIs(absl::StatusCode::kDeadlineExceeded,
                                          HasSubstr("plugin fake-hang ADD")));
  ASSERT_OK_AND_ASSIGN(
      std::string links,
      RunTool(sys_, {"/usr/sbin/ip", "-o", "link", "show", "master", kBridge}));
  EXPECT_THAT(links, IsEmpty());
  EXPECT_FALSE(Cached("pod6"));
  ASSERT_OK(factory_.Remove("pod6"));
  // The leak check in TearDown asserts no plugin process (or the hung
  // plugin's sleeping child) is left.
}

}  // namespace
}  // namespace podsandbox::cni
