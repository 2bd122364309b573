// Every request the controller refuses is refused before its first side
// effect, on a real controller: the code, the field named, no syscall made
// through sys::Sys (so no namespace, mount, file, CNI plugin or runtime),
// and nothing in the trees where a sandbox leaves traces. Also the refusals
// that depend on other pods (overlapping host ranges, a full node) and on
// the host (a state directory the pods' root cannot reach).
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "netns/namespaces.h"
#include "nlohmann/json.hpp"
#include "oci/runtime_handler.h"
#include "oci/runtime_type.h"
#include "sandbox/controller.h"
#include "sys/file.h"
#include "sys/real_sys.h"
#include "sys/status.h"
#include "sys/subprocess.h"
#include "sys/testing/faulty_sys.h"
#include "sys/testing/leak_check.h"
#include "sys/testing/status_matchers.h"
#include "sys/testing/temp_dir.h"

namespace podsandbox::sandbox {
namespace {

using ::podsandbox::sys::SysCall;
using ::podsandbox::sys::testing::IsOkAndHolds;
using ::podsandbox::sys::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

constexpr char kBridge[] = "psbval0";
constexpr char kUserns[] =
    "config.linux.security_context.namespace_options.userns_options";

const userns::IdMappings kMappings = {{{0, 300000, 65536}},
                                      {{0, 300000, 65536}}};

bool Exists(const std::string& path) {
  return ::access(path.c_str(), F_OK) == 0;
}

class ValidationTest : public sys::LeakCheckedTest {
 protected:
  void SetUp() override {
    ASSERT_EQ(::geteuid(), 0u) << "privileged test: run as root";
    root_ = dir_.Sub("root");
    state_ = dir_.Sub("state");
    conf_dir_ = dir_.Sub("net.d");
    for (const std::string& watched : Watched()) WatchDirectory(watched);
    LeakCheckedTest::SetUp();
    // A real network: a request that got past validation would make the
    // bridge, a lease and a CNI cache entry, which the checks would see.
    ASSERT_OK(sys::MakeDirs(real_, conf_dir_, 0755));
    nlohmann::json list = {
        {"cniVersion", "1.0.0"},
        {"name", "psbval"},
        {"plugins",
         {{{"type", "bridge"},
           {"bridge", kBridge},
           {"ipam",
            {{"type", "host-local"},
             {"dataDir", dir_.Sub("ipam")},
             {"ranges", {{{{"subnet", "10.235.9.0/24"}}}}}}}}}}};
    ASSERT_OK(sys::WriteFileAtomically(real_, conf_dir_ + "/10-psbval.conflist",
                                       list.dump(), 0644));
  }

  void CleanUpTestFixtures() override {
    controller_.reset();
    while (::waitpid(-1, nullptr, WNOHANG) > 0) {
    }
    // Only there if a request got through (the checks then fail).
    sys::Command del;
    del.path = "/usr/sbin/ip";
    del.args = {"ip", "link", "del", kBridge};
    del.env = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin"};
    (void)sys::RunSubprocess(real_, del);
    netns::UnmountPinDirs(real_, state_ + "/ns")
        .IgnoreError();  // leak check reports
  }

  std::vector<std::string> Watched() const {
    return {root_ + "/sandboxes", root_ + "/cni",   state_ + "/ns",
            state_ + "/bundles",  state_ + "/pods", state_ + "/runtime",
            dir_.Sub("ipam")};
  }

  ControllerOptions Options() {
    ControllerOptions o;
    o.root_dir = root_;
    o.state_dir = state_;
    o.cni_conf_dir = conf_dir_;
    o.cni_bin_dirs = {"/usr/lib/cni"};
    o.cni_timeout = absl::Seconds(5);
    o.pause_binary = "sandbox/pause/pause";
    o.stop_grace_period = absl::Seconds(2);
    // Small limits, so that the requests past them stay small.
    o.pod_limits.max_label_annotation_bytes = 4096;
    o.pod_limits.max_port_mappings = 4;
    o.pod_limits.max_sysctls = 4;
    o.pod_limits.max_dns_entries = 8;
    o.pod_limits.cgroup_parent_prefix = "/psbval";
    return o;
  }

  absl::Status Start(ControllerOptions options) {
    controller_.reset();
    ASSIGN_OR_RETURN(controller_, Controller::Create(sys_, std::move(options)));
    return absl::OkStatus();
  }

  // A pod that would pass: its own userns and network.
  static PodConfig Pod(absl::string_view name) {
    PodConfig config;
    config.metadata = {std::string(name), absl::StrCat("uid-", name), "psbval",
                       0};
    config.hostname = std::string(name);
    config.dns.servers = {"10.96.0.10"};
    config.namespaces.userns.mode = NamespaceMode::kPod;
    config.namespaces.userns.mappings = kMappings;
    return config;
  }

  // The same on the host's network: no CNI, so a pod that runs is cheap.
  static PodConfig HostNetworkPod(absl::string_view name,
                                  const userns::IdMappings& mappings) {
    PodConfig config = Pod(name);
    config.namespaces.network = NamespaceMode::kNode;
    config.dns = {};
    config.namespaces.userns.mappings = mappings;
    return config;
  }

  // Runs `config`, expects `code` naming `field`, and that nothing
  // happened: no call through sys::Sys, no file in the watched trees, no
  // sandbox listed.
  void ExpectRefusedBeforeAnySideEffect(const PodConfig& config,
                                        absl::StatusCode code,
                                        absl::string_view field) {
    sys::HostSnapshot before = sys::HostSnapshot::Take(Watched());
    sys_.Reset();
    EXPECT_THAT(controller_->RunPodSandbox(config, ""),
                StatusIs(code, HasSubstr(field)));
    for (int c = 0; c < sys::kSysCallCount; ++c) {
      SysCall call = static_cast<SysCall>(c);
      // The orphan reaper's thread waits on its own.
      if (call == SysCall::kWaitid) continue;
      EXPECT_EQ(sys_.count(call), 0) << sys::SysCallName(call);
    }
    EXPECT_EQ(
        sys::DescribeDifferences(before, sys::HostSnapshot::Take(Watched())),
        "");
  }

  sys::RealSys real_;
  sys::FaultySys sys_{real_};
  sys::TempDir dir_{"/tmp"};  // the pod's root must reach the rootfs
  std::string root_, state_, conf_dir_;
  std::unique_ptr<Controller> controller_;
};

struct BadRequest {
  std::string name;
  std::function<void(PodConfig&)> mutate;
  std::string field;  // the message must hold it
};

std::vector<userns::IdMapping> LongMap() {
  std::vector<userns::IdMapping> list = {{0, 1000000000, 1}};
  for (uint32_t i = 1; i < 300; ++i) {
    list.push_back({1000000000 + i, 1000000000 + i, 1});
  }
  return list;
}

TEST_F(ValidationTest, EveryBadRequestIsRefusedBeforeAnySideEffect) {
  ASSERT_OK(Start(Options()));
  const std::string u = kUserns;
  for (const BadRequest& bad : std::vector<BadRequest>{
           // Maps runc would refuse only after namespaces and CNI ran.
           {"no container root",
            [](PodConfig& c) {
              for (auto* list : {&c.namespaces.userns.mappings.uids,
                                 &c.namespaces.userns.mappings.gids}) {
                (*list)[0].container_id = 1;
              }
            },
            u + ".uids: must map container id 0"},
           {"map text past one write",
            [](PodConfig& c) {
              c.namespaces.userns.mappings = {LongMap(), LongMap()};
            },
            u + ".uids: is "},
           {"gids differ",
            [](PodConfig& c) {
              c.namespaces.userns.mappings.gids[0].host_id = 400000;
            },
            u + ".gids: must equal uids"},
           // What CNI_ARGS would have split or cut, after side effects.
           {"name with ';'",
            [](PodConfig& c) { c.metadata.name = "a;K8S_POD_NAME=b"; },
            "config.metadata.name: byte 0x3b at 1"},
           {"name with a newline",
            [](PodConfig& c) { c.metadata.name = "a\nb"; },
            "config.metadata.name: byte 0x0a at 1"},
           {"namespace with '='",
            [](PodConfig& c) { c.metadata.namespace_ = "a=b"; },
            "config.metadata.namespace: byte 0x3d at 1"},
           {"uid with NUL",
            [](PodConfig& c) { c.metadata.uid = std::string("u\0v", 3); },
            "config.metadata.uid: byte 0x00 at 1"},
           {"uid with ';'", [](PodConfig& c) { c.metadata.uid = "u;v"; },
            "config.metadata.uid: byte 0x3b at 1"},
           // Paths and words.
           {"cgroup_parent with ..",
            [](PodConfig& c) { c.cgroup_parent = "/psbval/../etc"; },
            "config.linux.cgroup_parent: must be clean"},
           {"cgroup_parent outside the prefix",
            [](PodConfig& c) { c.cgroup_parent = "/other"; },
            "config.linux.cgroup_parent: must be /psbval or below it"},
           {"log_directory relative",
            [](PodConfig& c) { c.log_directory = "var/log/pods"; },
            "config.log_directory: must be an absolute path"},
           {"sysctl value with a control character",
            [](PodConfig& c) { c.sysctls["net.ipv4.ip_forward"] = "1\r"; },
            "config.linux.sysctls[\"net.ipv4.ip_forward\"]: value must not "
            "contain a newline or other control character"},
           {"sysctl value too long",
            [](PodConfig& c) {
              c.sysctls["net.ipv4.ip_forward"] = std::string(4097, '1');
            },
            "value is 4097 bytes; at most 4096"},
           {"DNS search with a space",
            [](PodConfig& c) { c.dns.searches = {"a b"}; },
            "config.dns_config.searches[0]: must not contain whitespace"},
           {"DNS option with a newline",
            [](PodConfig& c) { c.dns.options = {"a\nnameserver 1.1.1.1"}; },
            "config.dns_config.options[0]: must not contain whitespace"},
           // Sizes past the configured limits.
           {"labels and annotations",
            [](PodConfig& c) {
              c.labels["a"] = std::string(2048, 'x');
              c.annotations["b"] = std::string(2048, 'y');
            },
            "config.labels, config.annotations: are 4098 bytes together; "
            "at most 4096"},
           {"port mappings",
            [](PodConfig& c) {
              for (int i = 0; i < 5; ++i) {
                c.port_mappings.push_back({Protocol::kTcp, 80 + i, 0, ""});
              }
            },
            "config.port_mappings: has 5 entries; at most 4"},
           {"sysctls",
            [](PodConfig& c) {
              for (const char* n :
                   {"kernel.msgmax", "kernel.msgmnb", "kernel.shmmax",
                    "kernel.shmall", "kernel.sem"}) {
                c.sysctls[n] = "1";
              }
            },
            "config.linux.sysctls: has 5 entries; at most 4"},
           {"DNS entries",
            [](PodConfig& c) {
              c.dns.searches = {"a", "b", "c", "d", "e", "f", "g", "h"};
            },
            "config.dns_config: has 9 servers, searches and options; at most "
            "8"},
       }) {
    SCOPED_TRACE(bad.name);
    PodConfig config = Pod("bad");
    bad.mutate(config);
    ExpectRefusedBeforeAnySideEffect(config, absl::StatusCode::kInvalidArgument,
                                     bad.field);
  }
  EXPECT_THAT(controller_->ListPodSandbox({}), IsEmpty());
}

// Two live pods never share host ids: the second is refused naming the
// first, before any side effect, also after a restart (recovery restores
// the holders); once the first is removed, its range is free again.
TEST_F(ValidationTest, OverlappingHostRangesOfALivePodAreRefused) {
  ASSERT_OK(Start(Options()));
  ASSERT_OK_AND_ASSIGN(
      std::string first,
      controller_->RunPodSandbox(HostNetworkPod("first", kMappings), ""));
  // Overlapping the end of the first range, uids and gids alike.
  const userns::IdMappings overlapping = {{{0, 365535, 65536}},
                                          {{0, 365535, 65536}}};
  const std::string holder =
      absl::StrCat("of live sandbox ", first, " (pod psbval/first)");
  ExpectRefusedBeforeAnySideEffect(
      HostNetworkPod("second", overlapping), absl::StatusCode::kInvalidArgument,
      absl::StrCat(kUserns, ".uids[0]: host range 365535+65536 overlaps"));
  // With a pod network too: refused before its namespaces and CNI.
  PodConfig networked = Pod("second");
  networked.namespaces.userns.mappings = overlapping;
  ExpectRefusedBeforeAnySideEffect(networked,
                                   absl::StatusCode::kInvalidArgument, holder);

  // Recovery restores what the first pod holds.
  ASSERT_OK(Start(Options()));
  ExpectRefusedBeforeAnySideEffect(HostNetworkPod("second", overlapping),
                                   absl::StatusCode::kInvalidArgument, holder);
  // A disjoint range runs beside it.
  ASSERT_OK_AND_ASSIGN(std::string beside,
                       controller_->RunPodSandbox(
                           HostNetworkPod("beside", {{{0, 500000, 65536}},
                                                     {{0, 500000, 65536}}}),
                           ""));
  ASSERT_OK(controller_->RemovePodSandbox(first));
  ASSERT_OK_AND_ASSIGN(
      std::string second,
      controller_->RunPodSandbox(HostNetworkPod("second", overlapping), ""));
  for (const std::string& id : {beside, second}) {
    ASSERT_OK(controller_->RemovePodSandbox(id));
  }
}

TEST_F(ValidationTest, OverlappingRangesRunWhenThePolicyAllowsThem) {
  ControllerOptions options = Options();
  options.userns_policy.allow_overlapping_ranges = true;
  ASSERT_OK(Start(options));
  std::vector<std::string> ids;
  for (const char* name : {"one", "two"}) {
    ASSERT_OK_AND_ASSIGN(
        std::string id,
        controller_->RunPodSandbox(HostNetworkPod(name, kMappings), ""));
    ids.push_back(id);
  }
  for (const std::string& id : ids) {
    ASSERT_OK(controller_->RemovePodSandbox(id));
  }
}

// A full node says so (ResourceExhausted), before any side effect; a
// retry of a held name still gets its sandbox; a Remove makes room.
TEST_F(ValidationTest, AFullNodeRefusesOneMoreSandbox) {
  ControllerOptions options = Options();
  options.max_sandboxes = 1;
  ASSERT_OK(Start(options));
  PodConfig first = HostNetworkPod("first", kMappings);
  ASSERT_OK_AND_ASSIGN(std::string id, controller_->RunPodSandbox(first, ""));
  ExpectRefusedBeforeAnySideEffect(
      HostNetworkPod("second", {{{0, 500000, 65536}}, {{0, 500000, 65536}}}),
      absl::StatusCode::kResourceExhausted, "max_sandboxes");
  EXPECT_THAT(controller_->RunPodSandbox(first, ""), IsOkAndHolds(id));
  EXPECT_THAT(controller_->ListPodSandbox({}), SizeIs(1));
  ASSERT_OK(controller_->RemovePodSandbox(id));
  ASSERT_OK_AND_ASSIGN(
      id, controller_->RunPodSandbox(HostNetworkPod("second", kMappings), ""));
  ASSERT_OK(controller_->RemovePodSandbox(id));
}

// runsc runs host-network pods only here. A pod with a network of its own
// is refused from its config alone (oci::CheckCanRun), before namespaces,
// pins or CNI ADD: before, runsc said so only when the pause started.
TEST_F(ValidationTest, RunscRefusesAPodNetworkBeforeAnySideEffect) {
  ControllerOptions options = Options();
  oci::RuntimeHandler runc;
  runc.name = "runc";
  runc.type = oci::RuntimeType::kRunc;
  runc.path = "/usr/sbin/runc";
  oci::RuntimeHandler host_runsc;
  host_runsc.name = "gvisor";
  host_runsc.type = oci::RuntimeType::kRunsc;
  host_runsc.path = "/usr/bin/runsc";
  host_runsc.extra_args = {"--network=host"};
  oci::RuntimeHandler sandbox_runsc = host_runsc;
  sandbox_runsc.name = "gvisor-sandbox";
  sandbox_runsc.extra_args = {};
  options.runtime_handlers = {runc, host_runsc, sandbox_runsc};
  ASSERT_OK(Start(std::move(options)));

  PodConfig pod = Pod("netns");
  pod.namespaces.userns = {};
  sys::HostSnapshot before = sys::HostSnapshot::Take(Watched());
  sys_.Reset();
  EXPECT_THAT(controller_->RunPodSandbox(pod, "gvisor"),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("runtime handler \"gvisor\" (runsc): runs "
                                 "with --network=host, so it can only run "
                                 "host-network pods")));
  // No call through sys::Sys: no namespace, pin, file, plugin or runtime.
  for (int c = 0; c < sys::kSysCallCount; ++c) {
    SysCall call = static_cast<SysCall>(c);
    if (call == SysCall::kWaitid) continue;  // the orphan reaper's own
    EXPECT_EQ(sys_.count(call), 0) << sys::SysCallName(call);
  }
  // In --network=sandbox mode runsc mistakes every netns on this kernel for
  // the host's; the one probe that tells is of a throwaway netns, which
  // leaves nothing behind either.
  EXPECT_THAT(controller_->RunPodSandbox(pod, "gvisor-sandbox"),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("in every network namespace")));
  EXPECT_LE(sys_.count(SysCall::kUnshare), 1);
  for (SysCall call : {SysCall::kMount, SysCall::kMkdir, SysCall::kOpen,
                       SysCall::kClone, SysCall::kPosixSpawn}) {
    EXPECT_EQ(sys_.count(call), 0) << sys::SysCallName(call);
  }
  EXPECT_EQ(
      sys::DescribeDifferences(before, sys::HostSnapshot::Take(Watched())), "");
  EXPECT_THAT(controller_->ListPodSandbox({}), IsEmpty());
}

// runc enters the rootfs under the state directory as the pod's root: a
// 0700 ancestor would fail every user-namespaced pod at create with
// "permission denied". The controller refuses to start instead, naming the
// directory, before it creates anything.
TEST_F(ValidationTest, StateDirectoryThePodsRootCannotReachIsRefused) {
  const std::string locked = dir_.Sub("locked");
  ASSERT_OK(sys::MakeDirs(real_, locked, 0700));
  ASSERT_EQ(::chmod(locked.c_str(), 0700), 0);
  ControllerOptions options = Options();
  options.root_dir = dir_.Sub("root2");
  options.state_dir = locked + "/state";
  EXPECT_THAT(Controller::Create(real_, options).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       AllOf(HasSubstr(absl::StrCat("directory ", locked,
                                                    " (mode 0700) needs o+x")),
                             HasSubstr(absl::StrCat("chmod o+x ", locked)))));
  EXPECT_FALSE(Exists(options.root_dir));
  EXPECT_FALSE(Exists(options.state_dir));
  // An existing state directory itself is checked too.
  ASSERT_OK(sys::MakeDirs(real_, options.state_dir, 0700));
  ASSERT_EQ(::chmod(locked.c_str(), 0711), 0);
  ASSERT_EQ(::chmod(options.state_dir.c_str(), 0700), 0);
  EXPECT_THAT(Controller::Create(real_, options).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr(absl::StrCat("directory ", options.state_dir,
                                              " (mode 0700) needs o+x"))));
  EXPECT_FALSE(Exists(options.root_dir));
  // Searchable, it starts.
  ASSERT_EQ(::chmod(options.state_dir.c_str(), 0711), 0);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Controller> c,
                       Controller::Create(real_, options));
  c.reset();
  for (const char* pins : {"/ns/netns", "/ns/userns"}) {
    ::umount2((options.state_dir + pins).c_str(), MNT_DETACH);
  }
}

}  // namespace
}  // namespace podsandbox::sandbox
