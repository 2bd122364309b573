// The builtin runtime (oci/builtin_runtime.h) through the pause task, on
// the real kernel: the pause it starts is what runc starts for the same
// pod (compared field by field in /proc), it is supervised, stopped,
// deleted and re-attached as runc's is, and every failure, injected at each
// of the launcher's syscalls or refused by the kernel in its children,
// leaves no process, mount, cgroup or file behind.
#include <fcntl.h>
#include <linux/nsfs.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "netns/namespace_file.h"
#include "netns/namespaces.h"
#include "oci/runtime_handler.h"
#include "sandbox/pause/rootfs.h"
#include "sandbox/pause_task.h"
#include "sys/cgroup_layout.h"
#include "sys/file.h"
#include "sys/orphan_reaper.h"
#include "sys/proc.h"
#include "sys/real_sys.h"
#include "sys/testing/faulty_sys.h"
#include "sys/testing/leak_check.h"
#include "sys/testing/status_matchers.h"
#include "sys/testing/temp_dir.h"
#include "userns/proc_maps.h"

namespace podsandbox::sandbox {
namespace {

using ::podsandbox::sys::testing::IsOkAndHolds;
using ::podsandbox::sys::testing::StatusIs;
using ::testing::HasSubstr;

const userns::IdMappings kMappings = {{{0, 100000, 65536}},
                                      {{0, 100000, 65536}}};

std::string IdFor(absl::string_view what) {
  return absl::StrCat("psb-bi-", what, "-", ::getpid());
}

bool Exists(const std::string& path) {
  return ::access(path.c_str(), F_OK) == 0;
}

std::string Read(const std::string& path) {
  absl::StatusOr<std::string> text = sys::ReadFile(path);
  return text.ok() ? *text : absl::StrCat("<", text.status().ToString(), ">");
}

// (device, inode) of a namespace file, as text; "" when unreadable.
std::string NsId(const std::string& path) {
  absl::StatusOr<netns::NamespaceId> id = netns::IdOfPath(path);
  if (!id.ok()) return "";
  return absl::StrCat(id->device, ":", id->inode);
}

// The user namespace owning namespace file `path`, as NsId gives it.
std::string OwnerId(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  int owner = ::ioctl(fd, NS_GET_USERNS);
  ::close(fd);
  if (owner < 0) return absl::StrCat("<", errno, ">");
  absl::StatusOr<netns::NamespaceId> id = netns::IdOf(owner);
  ::close(owner);
  return id.ok() ? absl::StrCat(id->device, ":", id->inode) : "";
}

// What a forked child reads after joining the `type` namespace of `pid`
// (setns of a UTS or network namespace is allowed to one thread of many;
// the child has one anyway): the hostname with `path` empty, else the file.
std::string ReadIn(pid_t pid, const char* type, int nstype,
                   const std::string& path) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return "<pipe>";
  std::string ns = absl::StrCat("/proc/", pid, "/ns/", type);
  pid_t child = ::fork();
  if (child == 0) {
    int fd = ::open(ns.c_str(), O_RDONLY);
    if (fd < 0 || ::setns(fd, nstype) != 0) ::_exit(1);
    char buf[256] = {};
    ssize_t n = 0;
    if (path.empty()) {
      struct utsname name;
      if (::uname(&name) != 0) ::_exit(1);
      n = ::strlen(name.nodename);
      ::memcpy(buf, name.nodename, n);
    } else {
      int file = ::open(path.c_str(), O_RDONLY);
      if (file < 0) ::_exit(1);
      n = ::read(file, buf, sizeof(buf));
    }
    if (n > 0) (void)!::write(fds[1], buf, n);
    ::_exit(0);
  }
  ::close(fds[1]);
  char buf[256] = {};
  ssize_t n = ::read(fds[0], buf, sizeof(buf) - 1);
  ::close(fds[0]);
  ::waitpid(child, nullptr, 0);
  return n > 0 ? std::string(buf, n) : "<none>";
}

std::string HostnameOf(pid_t pid) {
  return ReadIn(pid, "uts", CLONE_NEWUTS, "");
}

// What a pod's processes and the kubelet can observe of a pause, in a form
// that is equal for two equivalent pods: namespaces named relative to the
// pod's pins and the host's, ids and paths of the sandbox replaced.
std::map<std::string, std::string> KernelView(pid_t pid,
                                              const netns::PinnedNamespaces& ns,
                                              absl::string_view id) {
  std::map<std::string, std::string> view;
  const std::string proc = absl::StrCat("/proc/", pid);
  const std::string pin_user = NsId(ns.userns);
  const std::string pin_net = NsId(ns.netns);
  for (const char* type :
       {"user", "net", "mnt", "uts", "ipc", "pid", "cgroup", "time"}) {
    std::string mine = NsId(absl::StrCat(proc, "/ns/", type));
    std::string where;
    if (mine == NsId(absl::StrCat("/proc/self/ns/", type))) {
      where = "host";
    } else if (mine == pin_user) {
      where = "pinned userns";
    } else if (mine == pin_net) {
      where = "pinned netns";
    } else {
      where = "own";
    }
    std::string owner = OwnerId(absl::StrCat(proc, "/ns/", type));
    if (owner == pin_user) {
      where += ", owned by the pinned userns";
    } else if (owner == OwnerId("/proc/self/ns/net")) {
      where += ", owned by the host userns";
    }
    view[absl::StrCat("ns ", type)] = where;
  }
  view["uid_map"] = Read(proc + "/uid_map");
  view["gid_map"] = Read(proc + "/gid_map");
  view["setgroups"] = Read(proc + "/setgroups");
  view["oom_score_adj"] = Read(proc + "/oom_score_adj");
  view["hostname"] = HostnameOf(pid);
  for (absl::string_view line : absl::StrSplit(Read(proc + "/status"), '\n')) {
    for (const char* key :
         {"Uid:", "Gid:", "Groups:", "CapInh:", "CapPrm:", "CapEff:", "CapBnd:",
          "CapAmb:", "NoNewPrivs:", "Seccomp:", "SigBlk:", "SigIgn:", "NSpid:",
          "NSpgid:", "NSsid:"}) {
      if (absl::StartsWith(line, key)) {
        std::string value(absl::StripAsciiWhitespace(line.substr(strlen(key))));
        // The first NSpid column is the host's pid: differs by nature.
        if (absl::StartsWith(key, "NS")) {
          std::vector<std::string> cols =
              absl::StrSplit(value, '\t', absl::SkipEmpty());
          if (!cols.empty()) cols.erase(cols.begin());
          value = absl::StrJoin(cols, " ");
        }
        view[absl::StrCat("status ", key)] = value;
      }
    }
  }
  // The mount table as the pod sees it: mount point, per-mount options,
  // fstype and read-only-ness of the superblock. runc also binds device
  // nodes and symlinks into /dev, which the builtin leaves out (the pause
  // opens none: docs/design.md): only /dev itself and its filesystems are
  // compared.
  std::vector<std::string> mounts;
  for (absl::string_view line :
       absl::StrSplit(Read(proc + "/mountinfo"), '\n', absl::SkipEmpty())) {
    std::vector<absl::string_view> f = absl::StrSplit(line, ' ');
    size_t dash = 6;
    while (dash < f.size() && f[dash] != "-") ++dash;
    if (f.size() < 6 || dash + 3 >= f.size()) continue;
    absl::string_view point = f[4];
    if (absl::StartsWith(point, "/dev/") && point != "/dev/pts" &&
        point != "/dev/shm" && point != "/dev/mqueue") {
      continue;
    }
    std::vector<absl::string_view> super = absl::StrSplit(f[dash + 3], ',');
    mounts.push_back(absl::StrCat(point, " ", f[5], " ", f[dash + 1], " ",
                                  super.empty() ? "" : super[0]));
  }
  std::sort(mounts.begin(), mounts.end());
  view["mounts"] = absl::StrJoin(mounts, "\n");
  view["cgroup"] =
      absl::StrReplaceAll(Read(proc + "/cgroup"), {{std::string(id), "<id>"}});
  return view;
}

class BuiltinPauseTest : public sys::LeakCheckedTest {
 protected:
  void SetUp() override {
    ASSERT_OK(pause::EnsurePauseRootfs(real_, rootfs_.Sub("rootfs"),
                                       "sandbox/pause/pause"));
    builtin_.name = "builtin";
    builtin_.type = oci::RuntimeType::kBuiltin;
    builtin_.root = state_.Sub("builtin");
    builtin_.timeout = absl::Seconds(30);
    runc_.name = "runc";
    runc_.type = oci::RuntimeType::kRunc;
    runc_.path = "/usr/sbin/runc";
    runc_.root = state_.Sub("runc");
    runc_.timeout = absl::Seconds(30);
    WatchDirectory(state_.path());
    WatchDirectory(bundles_.path());
    WatchDirectory(pins_.path());
    WatchCgroup(cgroup_parent_);
    LeakCheckedTest::SetUp();
    ASSERT_OK(reaper_.Start());
    ASSERT_OK(factory_.Init());
    ASSERT_OK(task_.Init());
  }

  void CleanUpTestFixtures() override {
    netns::UnmountPinDirs(real_, pins_.path())
        .IgnoreError();  // leak check reports
    // The runtimes remove the sandbox's cgroup, not the parents they made.
    absl::StatusOr<std::vector<std::string>> dirs =
        sys::HostCgroupDirectories(cgroup_parent_);
    if (dirs.ok()) {
      for (const std::string& dir : *dirs) ::rmdir(dir.c_str());
    }
  }

  oci::TaskSpec Spec(const std::string& id) {
    oci::TaskSpec spec;
    spec.sandbox_id = id;
    spec.pod_name = "builtin-test";
    spec.pod_namespace = "default";
    spec.pod_uid = "uid-1";
    spec.hostname = "builtin-test";
    spec.cgroup_parent = cgroup_parent_;
    return spec;
  }

  oci::TaskSpec UsernsSpec(const std::string& id,
                           const netns::PinnedNamespaces& ns) {
    oci::TaskSpec spec = Spec(id);
    spec.netns_path = ns.netns;
    spec.userns_path = ns.userns;
    spec.id_mappings = kMappings;
    spec.sysctls = {{"net.ipv4.ping_group_range", "0 0"}};
    return spec;
  }

  std::string Bundle(const std::string& id) { return bundles_.Sub(id); }

  void FaultLoop(const std::string& name, const oci::TaskSpec& spec);

  std::vector<oci::ProcessExit> Exits(size_t n, absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    auto enough = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return exits_.size() >= n;
    };
    mu_.AwaitWithTimeout(absl::Condition(&enough), timeout);
    return exits_;
  }

  void ExpectCgroupsGone(const std::string& id) {
    absl::StatusOr<std::vector<std::string>> dirs =
        sys::HostCgroupDirectories(absl::StrCat(cgroup_parent_, "/", id));
    ASSERT_OK(dirs.status());
    for (const std::string& dir : *dirs) EXPECT_FALSE(Exists(dir)) << dir;
  }

  sys::RealSys real_;
  sys::FaultySys faulty_{real_};
  sys::TempDir rootfs_{"/tmp"};
  sys::TempDir bundles_{"/tmp"};
  sys::TempDir state_{"/tmp"};
  sys::TempDir pins_;
  std::string cgroup_parent_ = absl::StrCat("/psb-bi-", ::getpid());
  oci::RuntimeHandler builtin_;
  oci::RuntimeHandler runc_;
  sys::OrphanReaper reaper_{real_, absl::Milliseconds(100)};
  netns::NamespaceFactory factory_{real_, pins_.path()};
  absl::Mutex mu_;
  std::vector<oci::ProcessExit> exits_ ABSL_GUARDED_BY(mu_);
  PauseTask task_{faulty_,
                  &reaper_,
                  {rootfs_.Sub("rootfs")},
                  [this](const oci::ProcessExit& exit) {
                    absl::MutexLock lock(&mu_);
                    exits_.push_back(exit);
                  }};
};

TEST_F(BuiltinPauseTest, UsernsPodSeesItsMapsSysfsCgroupAndNoCapabilities) {
  std::string id = IdFor("userns");
  ASSERT_OK_AND_ASSIGN(netns::PinnedNamespaces ns,
                       factory_.Create(id, &kMappings));
  absl::Cleanup unpin = [&] { EXPECT_OK(factory_.Remove(id)); };
  ASSERT_OK_AND_ASSIGN(PauseProcess pause,
                       task_.Start(UsernsSpec(id, ns), builtin_, Bundle(id)));
  absl::Cleanup remove = [&] {
    EXPECT_OK(task_.Delete(builtin_, id, Bundle(id)));
  };
  EXPECT_THAT(userns::ReadProcessMaps(pause.pid), IsOkAndHolds(kMappings));
  EXPECT_EQ(NsId(absl::StrCat("/proc/", pause.pid, "/ns/net")), NsId(ns.netns));
  EXPECT_EQ(NsId(absl::StrCat("/proc/", pause.pid, "/ns/user")),
            NsId(ns.userns));
  struct stat st;
  ASSERT_EQ(::stat(absl::StrCat("/proc/", pause.pid).c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 165535u);
  std::map<std::string, std::string> view = KernelView(pause.pid, ns, id);
  EXPECT_EQ(view["status CapEff:"], "0000000000000000");
  EXPECT_EQ(view["status CapBnd:"], "0000000000000000");
  EXPECT_EQ(view["status CapAmb:"], "0000000000000000");
  EXPECT_EQ(view["status NoNewPrivs:"], "1");
  EXPECT_EQ(view["hostname"], "builtin-test");
  // Nothing of the daemon's leaks into the pod: stdio is /dev/null and no
  // other descriptor survived the exec.
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> fds,
                       sys::ListDir(absl::StrCat("/proc/", pause.pid, "/fd")));
  std::sort(fds.begin(), fds.end());
  EXPECT_THAT(fds, ::testing::ElementsAre("0", "1", "2"));
  for (const std::string& fd : fds) {
    char target[256] = {};
    std::string link = absl::StrCat("/proc/", pause.pid, "/fd/", fd);
    ASSERT_GT(::readlink(link.c_str(), target, sizeof(target) - 1), 0);
    EXPECT_STREQ(target, "/dev/null") << link;
  }
  EXPECT_THAT(view["mounts"], HasSubstr("/sys ro,nosuid,nodev,noexec"));
  EXPECT_THAT(view["mounts"], HasSubstr("sysfs"));
  // The sysctl was written inside the pod's netns.
  EXPECT_EQ(ReadIn(pause.pid, "net", CLONE_NEWNET,
                   "/proc/sys/net/ipv4/ping_group_range"),
            "100000\t100000\n")
      << "gid 0 of the pod, as the host's user namespace reads it";
  absl::StatusOr<std::vector<std::string>> cgroups =
      sys::HostCgroupDirectories(absl::StrCat(cgroup_parent_, "/", id));
  ASSERT_OK(cgroups.status());
  for (const std::string& dir : *cgroups) {
    EXPECT_THAT(std::vector<std::string>(absl::StrSplit(
                    Read(dir + "/cgroup.procs"), '\n', absl::SkipEmpty())),
                ::testing::ElementsAre(absl::StrCat(pause.pid)))
        << dir;
  }

  ASSERT_OK(task_.Stop(builtin_, id, absl::Seconds(5)));
  std::vector<oci::ProcessExit> exits = Exits(1, absl::Seconds(5));
  ASSERT_EQ(exits.size(), 1u);
  EXPECT_TRUE(exits[0].status_known);
  EXPECT_EQ(exits[0].exit_code, 0) << "pause exits 0 on SIGTERM";

  std::move(remove).Cancel();
  ASSERT_OK(task_.Delete(builtin_, id, Bundle(id)));
  EXPECT_FALSE(Exists(Bundle(id)));
  EXPECT_FALSE(Exists(absl::StrCat(builtin_.root, "/", id, ".json")));
  ExpectCgroupsGone(id);
  EXPECT_OK(task_.Stop(builtin_, id, absl::Seconds(1)));
  EXPECT_OK(task_.Delete(builtin_, id, Bundle(id)));
}

// Kernel truth: for equivalent pods, the pause builtin starts and the one
// runc starts look the same from /proc.
TEST_F(BuiltinPauseTest, SameKernelViewAsRunc) {
  std::map<std::string, std::map<std::string, std::string>> views;
  for (const oci::RuntimeHandler* handler : {&runc_, &builtin_}) {
    std::string id = IdFor(handler->name);
    ASSERT_OK_AND_ASSIGN(netns::PinnedNamespaces ns,
                         factory_.Create(id, &kMappings));
    absl::Cleanup unpin = [&] { EXPECT_OK(factory_.Remove(id)); };
    ASSERT_OK_AND_ASSIGN(PauseProcess pause,
                         task_.Start(UsernsSpec(id, ns), *handler, Bundle(id)));
    absl::Cleanup remove = [&] {
      EXPECT_OK(task_.Delete(*handler, id, Bundle(id)));
    };
    views[handler->name] = KernelView(pause.pid, ns, id);
  }
  auto& runc = views["runc"];
  auto& builtin = views["builtin"];
  // The one difference: runc (a Go program) leaves signal 32 ignored, and
  // ignored signals survive exec; the builtin resets every disposition.
  EXPECT_EQ(builtin["status SigIgn:"], "0000000000000000");
  runc.erase("status SigIgn:");
  builtin.erase("status SigIgn:");
  ASSERT_FALSE(runc.empty());
  for (const auto& [key, value] : runc) {
    auto it = builtin.find(key);
    ASSERT_NE(it, builtin.end()) << key;
    EXPECT_EQ(it->second, value) << key;
  }
  EXPECT_EQ(runc.size(), builtin.size());
}

TEST_F(BuiltinPauseTest, HostNetworkPodRunsInTheHostNetns) {
  std::string id = IdFor("hostnet");
  ASSERT_OK_AND_ASSIGN(PauseProcess pause,
                       task_.Start(Spec(id), builtin_, Bundle(id)));
  absl::Cleanup remove = [&] {
    EXPECT_OK(task_.Delete(builtin_, id, Bundle(id)));
  };
  EXPECT_EQ(NsId(absl::StrCat("/proc/", pause.pid, "/ns/net")),
            NsId("/proc/self/ns/net"));
  EXPECT_NE(NsId(absl::StrCat("/proc/", pause.pid, "/ns/pid")),
            NsId("/proc/self/ns/pid"));
}

// A user namespace with the host's network: none is pinned, so the
// builtin makes one with the pod's maps, as runc does, and binds the
// host's /sys read-only (the pod's root may not mount a sysfs for the
// host's netns).
TEST_F(BuiltinPauseTest, HostNetworkUsernsPodGetsItsOwnMappedUserns) {
  std::string id = IdFor("hostnet-userns");
  oci::TaskSpec spec = Spec(id);
  spec.id_mappings = kMappings;
  ASSERT_OK_AND_ASSIGN(PauseProcess pause,
                       task_.Start(spec, builtin_, Bundle(id)));
  absl::Cleanup remove = [&] {
    EXPECT_OK(task_.Delete(builtin_, id, Bundle(id)));
  };
  EXPECT_THAT(userns::ReadProcessMaps(pause.pid), IsOkAndHolds(kMappings));
  const std::string proc = absl::StrCat("/proc/", pause.pid);
  EXPECT_EQ(NsId(proc + "/ns/net"), NsId("/proc/self/ns/net"));
  EXPECT_NE(NsId(proc + "/ns/user"), NsId("/proc/self/ns/user"));
  EXPECT_EQ(OwnerId(proc + "/ns/mnt"), NsId(proc + "/ns/user"));
  bool sys_ro = false;
  for (absl::string_view line :
       absl::StrSplit(Read(proc + "/mountinfo"), '\n', absl::SkipEmpty())) {
    std::vector<absl::string_view> f = absl::StrSplit(line, ' ');
    if (f.size() > 5 && f[4] == "/sys") {
      sys_ro =
          absl::StartsWith(f[5], "ro,") && absl::StrContains(line, "sysfs");
    }
  }
  EXPECT_TRUE(sys_ro) << Read(proc + "/mountinfo");
}

// Launches from several threads at once (the daemon runs RunPodSandbox on
// a pool): each gets its own pause in its own cgroup and namespaces.
TEST_F(BuiltinPauseTest, ConcurrentStartsEachGetTheirOwnPause) {
  constexpr int kPods = 6;
  std::vector<std::string> ids;
  for (int i = 0; i < kPods; ++i) ids.push_back(IdFor(absl::StrCat("conc", i)));
  std::vector<absl::StatusOr<PauseProcess>> started(kPods,
                                                    absl::UnknownError(""));
  {
    std::vector<std::thread> threads;
    for (int i = 0; i < kPods; ++i) {
      threads.emplace_back([this, &ids, &started, i] {
        started[i] = task_.Start(Spec(ids[i]), builtin_, Bundle(ids[i]));
      });
    }
    for (std::thread& t : threads) t.join();
  }
  std::set<std::string> pid_namespaces;
  for (int i = 0; i < kPods; ++i) {
    ASSERT_OK(started[i].status()) << ids[i];
    pid_namespaces.insert(
        NsId(absl::StrCat("/proc/", started[i]->pid, "/ns/pid")));
    absl::StatusOr<std::vector<std::string>> dirs =
        sys::HostCgroupDirectories(absl::StrCat(cgroup_parent_, "/", ids[i]));
    ASSERT_OK(dirs.status());
    for (const std::string& dir : *dirs) {
      EXPECT_EQ(Read(dir + "/cgroup.procs"),
                absl::StrCat(started[i]->pid, "\n"))
          << dir;
    }
  }
  EXPECT_EQ(pid_namespaces.size(), static_cast<size_t>(kPods));
  for (int i = 0; i < kPods; ++i) {
    EXPECT_OK(task_.Stop(builtin_, ids[i], absl::Seconds(5)));
    EXPECT_OK(task_.Delete(builtin_, ids[i], Bundle(ids[i])));
    ExpectCgroupsGone(ids[i]);
  }
}

TEST_F(BuiltinPauseTest, KilledFromOutsideIsReported) {
  std::string id = IdFor("killed");
  ASSERT_OK_AND_ASSIGN(netns::PinnedNamespaces ns,
                       factory_.Create(id, &kMappings));
  absl::Cleanup unpin = [&] { EXPECT_OK(factory_.Remove(id)); };
  ASSERT_OK_AND_ASSIGN(PauseProcess pause,
                       task_.Start(UsernsSpec(id, ns), builtin_, Bundle(id)));
  absl::Cleanup remove = [&] {
    EXPECT_OK(task_.Delete(builtin_, id, Bundle(id)));
  };
  ASSERT_EQ(::kill(pause.pid, SIGKILL), 0);
  std::vector<oci::ProcessExit> exits = Exits(1, absl::Seconds(5));
  ASSERT_EQ(exits.size(), 1u);
  EXPECT_EQ(exits[0].id, id);
  EXPECT_EQ(exits[0].term_signal, SIGKILL);
}

TEST_F(BuiltinPauseTest, ReattachAfterRestartAndStop) {
  std::string id = IdFor("reattach");
  ASSERT_OK_AND_ASSIGN(PauseProcess pause,
                       task_.Start(Spec(id), builtin_, Bundle(id)));
  absl::Cleanup remove = [&] {
    EXPECT_OK(task_.Delete(builtin_, id, Bundle(id)));
  };
  // As after a restart: nobody watches it.
  task_.watcher().Forget(id);
  EXPECT_THAT(task_.Reattach(id, {pause.pid, pause.start_time + 1}),
              StatusIs(absl::StatusCode::kNotFound));
  ASSERT_OK(task_.Reattach(id, pause));
  ASSERT_OK(task_.Stop(builtin_, id, absl::Seconds(5)));
  EXPECT_EQ(Exits(1, absl::Seconds(5)).size(), 1u);
}

// Stop right after Start: the TERM lands between the exec and the pause's
// own sigprocmask, where a PID namespace's init would drop a signal left at
// SIG_DFL; the launcher execs the pause with it blocked, so it stays
// pending and the pause exits 0 on it. Were it dropped, Stop would wait out
// the grace period and end the pause with SIGKILL instead.
TEST_F(BuiltinPauseTest, TermRightAfterStartIsNotLost) {
  constexpr int kPods = 10;
  for (int i = 0; i < kPods; ++i) {
    std::string id = IdFor(absl::StrCat("term", i));
    ASSERT_OK_AND_ASSIGN(netns::PinnedNamespaces ns,
                         factory_.Create(id, &kMappings));
    absl::Cleanup unpin = [&] { EXPECT_OK(factory_.Remove(id)); };
    ASSERT_OK(task_.Start(UsernsSpec(id, ns), builtin_, Bundle(id)).status());
    ASSERT_OK(task_.Stop(builtin_, id, absl::Seconds(30)));
    ASSERT_OK(task_.Delete(builtin_, id, Bundle(id)));
  }
  std::vector<oci::ProcessExit> exits = Exits(kPods, absl::Seconds(5));
  ASSERT_EQ(exits.size(), static_cast<size_t>(kPods));
  for (const oci::ProcessExit& exit : exits) {
    EXPECT_EQ(exit.term_signal, 0) << exit.id;
    EXPECT_EQ(exit.exit_code, 0) << exit.id << ": pause exits 0 on SIGTERM";
  }
}

// A refusal inside the children (here the kernel's: no such sysctl) comes
// back naming the step, and leaves nothing.
TEST_F(BuiltinPauseTest, ChildFailureNamesTheStepAndLeavesNothing) {
  std::string id = IdFor("badsysctl");
  ASSERT_OK_AND_ASSIGN(netns::PinnedNamespaces ns,
                       factory_.Create(id, &kMappings));
  absl::Cleanup unpin = [&] { EXPECT_OK(factory_.Remove(id)); };
  oci::TaskSpec spec = UsernsSpec(id, ns);
  spec.sysctls["net.ipv4.psb_no_such_sysctl"] = "1";
  EXPECT_THAT(task_.Start(spec, builtin_, Bundle(id)),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("write sysctl")));
  EXPECT_FALSE(Exists(Bundle(id)));
  EXPECT_FALSE(Exists(absl::StrCat(builtin_.root, "/", id, ".json")));
  ExpectCgroupsGone(id);
}

// Every syscall the parent side makes on a successful start of `spec`,
// failed in turn: the error comes back with that errno and nothing is left.
void BuiltinPauseTest::FaultLoop(const std::string& name,
                                 const oci::TaskSpec& spec) {
  const std::string& id = spec.sandbox_id;
  // A first start makes the cgroup parents (and writes their cpuset
  // files), which the probe below and the faulted runs then find: every
  // run makes the same calls.
  {
    ASSERT_OK_AND_ASSIGN(PauseProcess pause,
                         task_.Start(spec, builtin_, Bundle(id)));
    (void)pause;
    ASSERT_OK(task_.Delete(builtin_, id, Bundle(id)));
  }

  faulty_.Reset();
  {
    ASSERT_OK_AND_ASSIGN(PauseProcess pause,
                         task_.Start(spec, builtin_, Bundle(id)));
    (void)pause;
  }
  std::array<int, sys::kSysCallCount> counts;
  for (int c = 0; c < sys::kSysCallCount; ++c) {
    counts[c] = faulty_.count(static_cast<sys::SysCall>(c));
  }
  ASSERT_OK(task_.Delete(builtin_, id, Bundle(id)));
  EXPECT_GT(counts[static_cast<int>(sys::SysCall::kClone3)], 0);

  int injected = 0;
  for (int c = 0; c < sys::kSysCallCount; ++c) {
    const auto call = static_cast<sys::SysCall>(c);
    for (int n = 1; n <= counts[c]; ++n) {
      SCOPED_TRACE(absl::StrCat(sys::SysCallName(call), " #", n));
      faulty_.Reset();
      faulty_.FailNth(call, n, ENOSPC);
      absl::StatusOr<PauseProcess> pause =
          task_.Start(spec, builtin_, Bundle(id));
      ASSERT_EQ(faulty_.fired(call), 1) << "the fault did not reach the code";
      faulty_.Reset();
      ++injected;
      if (pause.ok()) {
        // A syscall whose failure is tolerated by design (an optional
        // cleanup): the start must then be whole.
        ASSERT_OK(task_.Delete(builtin_, id, Bundle(id)));
        continue;
      }
      EXPECT_THAT(pause.status().ToString(), HasSubstr(std::strerror(ENOSPC)));
      EXPECT_FALSE(Exists(Bundle(id)));
      EXPECT_FALSE(Exists(absl::StrCat(builtin_.root, "/", id, ".json")));
      ExpectCgroupsGone(id);
      // No process of the launch is left. A child whose pid the launcher
      // never learnt (a fault before stage 1's report was read) was killed
      // through the cgroup; its zombie is the orphan reaper's, which takes
      // it after two scans (100 ms apart here).
      absl::Time deadline = absl::Now() + absl::Seconds(5);
      absl::StatusOr<std::vector<pid_t>> children = sys::ListChildren();
      while (children.ok() && !children->empty() && absl::Now() < deadline) {
        absl::SleepFor(absl::Milliseconds(20));
        children = sys::ListChildren();
      }
      ASSERT_OK(children.status());
      for (pid_t child : *children) {
        ADD_FAILURE() << "child left: "
                      << Read(absl::StrCat("/proc/", child, "/stat"));
      }
    }
  }
  RecordProperty(absl::StrCat("faults_injected_", name), injected);
}

TEST_F(BuiltinPauseTest, EachInjectedFaultIsRolledBack) {
  std::string id = IdFor("faults");
  ASSERT_OK_AND_ASSIGN(netns::PinnedNamespaces ns,
                       factory_.Create(id, &kMappings));
  absl::Cleanup unpin = [&] { EXPECT_OK(factory_.Remove(id)); };
  FaultLoop("pod_netns", UsernsSpec(id, ns));
}

// The same with the user namespace the builtin makes itself (host
// network): its holder child and map writes are on the path too.
TEST_F(BuiltinPauseTest, EachInjectedFaultIsRolledBackForAHostNetworkUserns) {
  oci::TaskSpec spec = Spec(IdFor("faults-hostnet"));
  spec.id_mappings = kMappings;
  FaultLoop("host_network", spec);
}

}  // namespace
}  // namespace podsandbox::sandbox
