#include "sys/testing/leak_check.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "sys/cgroup_layout.h"
#include "sys/file.h"
#include "sys/proc.h"
#include "sys/real_sys.h"
#include "sys/subprocess.h"

namespace podsandbox::sys {
namespace {

// Processes a sandbox may leave behind, by comm (15 chars at most).
const absl::flat_hash_set<std::string>& WatchedCommands() {
  static const auto* commands = new absl::flat_hash_set<std::string>{
      "pause",          "runc",           "runc:[2:INIT]", "crun",
      "runsc",          "runsc-gofer",    "runsc-sandbox", "exe",
      "bridge",         "host-local",     "portmap",       "loopback",
      "containerd-shi", "podsandbox-keep"};
  return *commands;
}

// The entries of `dir`; none when it cannot be read (a snapshot records
// what it can see).
std::vector<std::string> Entries(const std::string& dir) {
  return ListDir(dir).value_or(std::vector<std::string>());
}

void WalkFiles(const std::string& path, std::set<std::string>& out) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return;
  if (!S_ISDIR(st.st_mode)) {
    out.insert(path);
    return;
  }
  for (const std::string& name : Entries(path)) {
    WalkFiles(absl::StrCat(path, "/", name), out);
  }
}

std::string NamespaceLink(const std::string& pid, const char* type) {
  char buf[64];
  std::string path = absl::StrCat("/proc/", pid, "/ns/", type);
  ssize_t n = ::readlink(path.c_str(), buf, sizeof(buf));
  return n > 0 ? std::string(buf, n) : "";
}

// Fills `out` with "<comm> (pid N)" of every watched process and `states`
// with each one's state letter.
void WatchedProcesses(std::set<std::string>& out,
                      std::map<std::string, char>& states) {
  std::string self = absl::StrCat(::getpid());
  std::string my_userns = NamespaceLink(self, "user");
  std::string my_netns = NamespaceLink(self, "net");
  absl::flat_hash_map<pid_t, pid_t> parent;
  absl::flat_hash_map<pid_t, std::string> described;
  absl::flat_hash_map<pid_t, char> state;
  auto watch = [&](pid_t pid) {
    out.insert(described[pid]);
    states[described[pid]] = state[pid];
  };
  for (const std::string& name : Entries("/proc")) {
    pid_t pid;
    if (!absl::SimpleAtoi(name, &pid) || pid == ::getpid()) continue;
    absl::StatusOr<ProcStat> stat = ReadProcStat(pid);
    absl::StatusOr<std::string> comm =
        ReadFile(absl::StrCat("/proc/", name, "/comm"));
    if (!stat.ok() || !comm.ok()) continue;  // exited meanwhile
    parent[pid] = stat->ppid;
    std::string command(absl::StripAsciiWhitespace(*comm));
    described[pid] = absl::StrCat(command, " (pid ", pid, ")");
    state[pid] = stat->state;
    std::string userns = NamespaceLink(name, "user");
    std::string netns = NamespaceLink(name, "net");
    bool foreign_ns = (!userns.empty() && userns != my_userns) ||
                      (!netns.empty() && netns != my_netns);
    if (WatchedCommands().contains(command) || foreign_ns) watch(pid);
  }
  // Our own descendants, whatever they run.
  for (const auto& [pid, ppid] : parent) {
    for (pid_t p = ppid; p > 1; p = parent.contains(p) ? parent[p] : 0) {
      if (p == ::getpid()) {
        watch(pid);
        break;
      }
    }
  }
}

// Every directory below `dir` (not `dir` itself), recursively, or only its
// children when `recursive` is false.
void WalkDirectories(const std::string& dir, bool recursive,
                     std::set<std::string>& out) {
  std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir.c_str()), ::closedir);
  if (d == nullptr) return;
  while (struct dirent* e = ::readdir(d.get())) {
    const std::string name = e->d_name;
    if (e->d_type != DT_DIR || name == "." || name == "..") continue;
    const std::string path = absl::StrCat(dir, "/", name);
    out.insert(path);
    if (recursive) WalkDirectories(path, true, out);
  }
}

std::set<std::string> Cgroups(const std::vector<std::string>& watched) {
  std::set<std::string> out;
  absl::StatusOr<std::vector<std::string>> roots = HostCgroupDirectories("");
  if (!roots.ok()) {
    // Compared like any entry: a layout that cannot be read before and
    // after is no leak, and one that changes is reported.
    out.insert(
        absl::StrCat("(cgroups unreadable: ", roots.status().message(), ")"));
    return out;
  }
  for (const std::string& root : *roots) {
    WalkDirectories(root, /*recursive=*/false, out);
    for (const std::string& path : watched) {
      const std::string top = absl::StrCat(root, path);
      if (::access(top.c_str(), F_OK) == 0) out.insert(top);
      WalkDirectories(top, /*recursive=*/true, out);
    }
  }
  return out;
}

std::set<std::string> Iptables() {
  std::set<std::string> out;
  RealSys sys;
  for (const char* command : {"iptables", "ip6tables"}) {
    Command save{absl::StrCat("/usr/sbin/", command, "-save"),
                 {absl::StrCat(command, "-save")}};
    save.timeout = absl::Seconds(30);
    absl::StatusOr<SubprocessResult> r = RunSubprocess(sys, save);
    if (!r.ok() || !r->success()) {
      out.insert(absl::StrCat("(", command, "-save failed: ",
                              r.ok() ? DescribeExit(*r) : r.status().ToString(),
                              ")"));
      continue;
    }
    std::set<std::string> rules = ParseIptablesSave(command, r->stdout_data);
    out.insert(rules.begin(), rules.end());
  }
  return out;
}

void AddDifferences(const std::set<std::string>& before,
                    const std::set<std::string>& after, absl::string_view what,
                    std::string& out) {
  for (const std::string& item : after) {
    if (before.count(item) == 0)
      absl::StrAppend(&out, "leaked ", what, " ", item, "\n");
  }
  for (const std::string& item : before) {
    if (after.count(item) == 0)
      absl::StrAppend(&out, "removed ", what, " ", item, "\n");
  }
}

}  // namespace

namespace {

// portmap creates these chains, the jumps into them and their two marking
// rules the first time any pod has a port mapping, and by design never
// removes them (they serve every later pod). They are host state the first
// test to map a port creates, not a leak; the per-pod chains (CNI-DN-*)
// and the per-pod rules inside CNI-HOSTPORT-DNAT stay watched.
bool IsPortmapGlobalChain(absl::string_view chain) {
  return chain == "CNI-HOSTPORT-DNAT" || chain == "CNI-HOSTPORT-SNAT" ||
         chain == "CNI-HOSTPORT-MASQ" || chain == "CNI-HOSTPORT-SETMARK";
}

bool IsPortmapGlobalRule(absl::string_view rule) {
  for (absl::string_view builtin : {"PREROUTING ", "OUTPUT ", "POSTROUTING "}) {
    if (absl::StartsWith(rule, absl::StrCat("-A ", builtin)) &&
        (absl::EndsWith(rule, "-j CNI-HOSTPORT-DNAT") ||
         absl::EndsWith(rule, "-j CNI-HOSTPORT-SNAT") ||
         absl::EndsWith(rule, "-j CNI-HOSTPORT-MASQ"))) {
      return true;
    }
  }
  return absl::StartsWith(rule, "-A CNI-HOSTPORT-MASQ -m mark ") ||
         absl::StartsWith(rule, "-A CNI-HOSTPORT-SETMARK ");
}

}  // namespace

std::set<std::string> ParseIptablesSave(absl::string_view command,
                                        absl::string_view text) {
  static const auto* const kBuiltIn = new absl::flat_hash_set<std::string>{
      "INPUT", "FORWARD", "OUTPUT", "PREROUTING", "POSTROUTING"};
  std::set<std::string> out;
  std::string table;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    if (absl::ConsumePrefix(&line, "*")) {
      table = std::string(line);
    } else if (absl::StartsWith(line, ":")) {
      // ":NAME POLICY [packets:bytes]"
      std::vector<absl::string_view> f =
          absl::StrSplit(line.substr(1), ' ', absl::SkipEmpty());
      if (f.size() < 2) continue;
      if (kBuiltIn->contains(f[0]) && f[1] == "ACCEPT") continue;
      if (IsPortmapGlobalChain(f[0])) continue;
      out.insert(absl::StrCat(command, " ", table, " :", f[0], " ", f[1]));
    } else if (absl::StartsWith(line, "-")) {
      if (IsPortmapGlobalRule(line)) continue;
      out.insert(absl::StrCat(command, " ", table, " ", line));
    }
  }
  return out;
}

HostSnapshot HostSnapshot::Take(
    const std::vector<std::string>& watched_dirs,
    const std::vector<std::string>& watched_cgroups) {
  HostSnapshot s;
  if (absl::StatusOr<std::string> info = ReadFile("/proc/self/mountinfo");
      info.ok()) {
    for (absl::string_view line :
         absl::StrSplit(*info, '\n', absl::SkipEmpty())) {
      std::vector<absl::string_view> f = absl::StrSplit(line, ' ');
      if (f.size() > 4) s.mounts.insert(std::string(f[4]));
    }
  }
  for (const std::string& link : Entries("/sys/class/net"))
    s.links.insert(link);
  for (const std::string& dir : watched_dirs) WalkFiles(dir, s.files);
  WatchedProcesses(s.processes, s.process_states);
  if (absl::StatusOr<std::string> fwd =
          ReadFile("/proc/sys/net/ipv4/ip_forward");
      fwd.ok()) {
    s.ip_forward = std::string(absl::StripAsciiWhitespace(*fwd));
  }
  s.cgroups = Cgroups(watched_cgroups);
  s.iptables = Iptables();
  return s;
}

std::string DescribeDifferences(const HostSnapshot& before,
                                const HostSnapshot& after) {
  std::string out;
  AddDifferences(before.mounts, after.mounts, "mount", out);
  AddDifferences(before.links, after.links, "link", out);
  AddDifferences(before.files, after.files, "file", out);
  // With the state letter of the snapshot that has the process: a zombie
  // ("Z") says who failed to reap.
  auto with_state = [](const HostSnapshot& s, const std::string& p) {
    auto it = s.process_states.find(p);
    return it == s.process_states.end()
               ? p
               : absl::StrCat(p, " state ", std::string(1, it->second));
  };
  std::set<std::string> leaked, removed;
  for (const std::string& p : after.processes) {
    if (before.processes.count(p) == 0) leaked.insert(with_state(after, p));
  }
  for (const std::string& p : before.processes) {
    if (after.processes.count(p) == 0) removed.insert(with_state(before, p));
  }
  AddDifferences({}, leaked, "process", out);
  AddDifferences(removed, {}, "process", out);
  AddDifferences(before.cgroups, after.cgroups, "cgroup", out);
  AddDifferences(before.iptables, after.iptables, "iptables", out);
  if (before.ip_forward != after.ip_forward) {
    absl::StrAppend(&out, "net.ipv4.ip_forward changed from ",
                    before.ip_forward, " to ", after.ip_forward, "\n");
  }
  return out;
}

void LeakCheckedTest::SetUp() {
  ASSERT_EQ(::geteuid(), 0u)
      << "privileged test: run as root (bazel test as root, or "
         "--test_tag_filters=-privileged)";
  before_ = HostSnapshot::Take(watched_dirs_, watched_cgroups_);
  snapshotted_ = true;
}

void LeakCheckedTest::WatchDirectory(const std::string& dir) {
  watched_dirs_.push_back(dir);
  if (snapshotted_) WalkFiles(dir, before_.files);
}

void LeakCheckedTest::WatchCgroup(const std::string& path) {
  watched_cgroups_.push_back(path);
  if (!snapshotted_) return;
  // Only the new path's subtrees join the snapshot: the top level stays as
  // SetUp saw it.
  absl::StatusOr<std::vector<std::string>> tops = HostCgroupDirectories(path);
  if (!tops.ok()) return;  // Take reports the layout itself as unreadable
  for (const std::string& top : *tops) {
    if (::access(top.c_str(), F_OK) == 0) before_.cgroups.insert(top);
    WalkDirectories(top, /*recursive=*/true, before_.cgroups);
  }
}

void LeakCheckedTest::TearDown() {
  if (!snapshotted_) return;
  if (std::string left = FindLeftovers(); !left.empty()) {
    ADD_FAILURE() << "the test left behind (found before cleaning up):\n"
                  << left;
  }
  CleanUpTestFixtures();
  // Killed processes are reaped by whoever adopted them, asynchronously.
  std::string differences;
  absl::Time deadline = absl::Now() + absl::Seconds(10);
  do {
    differences = DescribeDifferences(
        before_, HostSnapshot::Take(watched_dirs_, watched_cgroups_));
    if (differences.empty()) return;
    absl::SleepFor(absl::Milliseconds(20));
  } while (absl::Now() < deadline);
  ADD_FAILURE() << "the test left the host changed:\n" << differences;
}

}  // namespace podsandbox::sys
