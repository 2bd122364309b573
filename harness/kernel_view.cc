#include "harness/kernel_view.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <sys/vfs.h>
#include <sys/wait.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "sys/file.h"
#include "sys/mountinfo_field.h"
#include "sys/proc.h"
#include "sys/real_sys.h"
#include "sys/status.h"
#include "sys/unique_fd.h"

namespace podsandbox::harness {
namespace {

std::string ProcPath(pid_t pid, absl::string_view file) {
  return pid == 0 ? absl::StrCat("/proc/self/", file)
                  : absl::StrCat("/proc/", pid, "/", file);
}

// What a child run by RunInChild gets: the fd to write its answer to and
// the namespace fd it joins.
struct ChildArgs {
  sys::Sys* sys;
  int out_fd;
  int ns_fd;
};

// Writes `size` bytes of `data`, or the errno of the step that failed as
// the exit code: the parent reads one or the other.
int Answer(const ChildArgs& args, const void* data, size_t size) {
  return args.sys->Write(args.out_fd, data, size).ok() ? 0 : 1;
}

// Joins the UTS namespace and reports uname's nodename.
int UtsChild(void* arg) {
  const ChildArgs& args = *static_cast<ChildArgs*>(arg);
  if (sys::SysResult r = args.sys->Setns(args.ns_fd, CLONE_NEWUTS); !r.ok()) {
    return r.err;
  }
  struct utsname name;
  if (::uname(&name) != 0) return errno;
  return Answer(args, name.nodename,
                ::strnlen(name.nodename, sizeof(name.nodename)));
}

// Joins the network namespace in a private mount namespace, mounts sysfs
// over /sys there and reports its device. The mount dies with the child's
// mount namespace.
int SysfsChild(void* arg) {
  const ChildArgs& args = *static_cast<ChildArgs*>(arg);
  sys::Sys& sys = *args.sys;
  if (sys::SysResult r = sys.Unshare(CLONE_NEWNS); !r.ok()) return r.err;
  // Private first, so the sysfs mount does not propagate to the host.
  if (sys::SysResult r =
          sys.Mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr);
      !r.ok()) {
    return r.err;
  }
  // sysfs tags its superblock with the mounter's netns at mount time.
  if (sys::SysResult r = sys.Setns(args.ns_fd, CLONE_NEWNET); !r.ok()) {
    return r.err;
  }
  if (sys::SysResult r =
          sys.Mount("sysfs", "/sys", "sysfs",
                    MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr);
      !r.ok()) {
    return r.err;
  }
  struct stat st;
  if (::stat("/sys", &st) != 0) return errno;
  const dev_t dev = st.st_dev;
  return Answer(args, &dev, sizeof(dev));
}

// Runs `fn` in a cloned child with its own copy of our memory and a single
// thread (so it may join namespaces that refuse multithreaded callers),
// with `ns_path` open as ChildArgs::ns_fd, and returns what it wrote. A
// child exit code other than 0 is the errno of the step that failed.
absl::StatusOr<std::string> RunInChild(int (*fn)(void*),
                                       absl::string_view ns_path,
                                       absl::string_view what) {
  sys::RealSys sys;
  ASSIGN_OR_RETURN(sys::UniqueFd ns, netns::OpenNamespace(sys, ns_path));
  int fds[2];
  if (sys::SysResult r = sys.Pipe2(fds, O_CLOEXEC); !r.ok()) {
    return sys::ErrnoError(r.err, "pipe for %s", what);
  }
  sys::UniqueFd read_end(fds[0]);
  sys::UniqueFd write_end(fds[1]);
  ChildArgs args{&sys, write_end.get(), ns.get()};
  constexpr size_t kStackSize = 64 * 1024;
  auto stack = std::make_unique<char[]>(kStackSize);
  // No CLONE_VM: the child writes into its own copy of `args` and the
  // stack, so both may go away with this frame once it is reaped.
  sys::SysResult cloned =
      sys.Clone(fn, stack.get() + kStackSize, SIGCHLD, &args, nullptr);
  if (!cloned.ok()) return sys::ErrnoError(cloned.err, "clone for %s", what);
  const pid_t child = static_cast<pid_t>(cloned.value);
  write_end = sys::UniqueFd();  // the read below ends at the child's exit
  std::string out;
  char buf[512];
  while (true) {
    sys::SysResult n = sys.Read(read_end.get(), buf, sizeof(buf));
    if (!n.ok() && n.err == EINTR) continue;
    if (!n.ok() || n.value == 0) break;
    out.append(buf, static_cast<size_t>(n.value));
  }
  siginfo_t info{};
  sys::SysResult waited;
  do {
    waited = sys.Waitid(P_PID, child, &info, WEXITED);
  } while (!waited.ok() && waited.err == EINTR);
  if (!waited.ok()) return sys::ErrnoError(waited.err, "wait for %s", what);
  if (info.si_code != CLD_EXITED) {
    return absl::InternalError(
        absl::StrCat(what, ": child killed by signal ", info.si_status));
  }
  if (info.si_status != 0) {
    return sys::ErrnoError(info.si_status, "%s", what);
  }
  return out;
}

}  // namespace

absl::StatusOr<std::vector<MountEntry>> ParseMountInfo(absl::string_view text) {
  std::vector<MountEntry> mounts;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    std::vector<absl::string_view> fields = absl::StrSplit(line, ' ');
    // Fields 1-6, optional fields, "-", fstype, source, super options.
    size_t dash = 6;
    while (dash < fields.size() && fields[dash] != "-") ++dash;
    if (fields.size() < 7 || dash + 2 >= fields.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("mountinfo: malformed line \"", line, "\""));
    }
    MountEntry m;
    m.device = std::string(fields[2]);
    m.root = sys::UnescapeMountInfoField(fields[3]);
    m.mount_point = sys::UnescapeMountInfoField(fields[4]);
    m.options = std::string(fields[5]);
    m.fstype = std::string(fields[dash + 1]);
    m.source = sys::UnescapeMountInfoField(fields[dash + 2]);
    mounts.push_back(std::move(m));
  }
  return mounts;
}

absl::StatusOr<std::vector<MountEntry>> ReadMountInfo(pid_t pid) {
  absl::StatusOr<std::string> text = sys::ReadFile(ProcPath(pid, "mountinfo"));
  if (!text.ok()) return text.status();
  return ParseMountInfo(*text);
}

const MountEntry* FindMount(const std::vector<MountEntry>& mounts,
                            absl::string_view mount_point) {
  const MountEntry* found = nullptr;
  for (const MountEntry& m : mounts) {
    if (m.mount_point == mount_point) found = &m;
  }
  return found;
}

bool IsReadOnly(const MountEntry& mount) {
  for (absl::string_view option : absl::StrSplit(mount.options, ',')) {
    if (option == "ro") return true;
  }
  return false;
}

absl::StatusOr<netns::NamespaceId> NamespaceOf(pid_t pid,
                                               absl::string_view type) {
  return netns::IdOfPath(ProcPath(pid, absl::StrCat("ns/", type)));
}

std::string NamespaceName(absl::string_view type,
                          const netns::NamespaceId& id) {
  return absl::StrCat(type, ":[", id.inode, "]");
}

absl::StatusOr<netns::NamespaceId> OwnerOfNetworkNamespace(
    absl::string_view netns_path) {
  sys::RealSys sys;
  ASSIGN_OR_RETURN(sys::UniqueFd netns, netns::OpenNamespace(sys, netns_path));
  ASSIGN_OR_RETURN(sys::UniqueFd owner,
                   netns::OwningUserNamespace(sys, netns.get()));
  return netns::IdOf(owner.get());
}

bool IsNamespacePin(absl::string_view path) {
  struct statfs fs;
  return statfs(std::string(path).c_str(), &fs) == 0 &&
         static_cast<unsigned long>(fs.f_type) == NSFS_MAGIC;
}

bool ProcessAlive(pid_t pid, uint64_t start_time) {
  absl::StatusOr<sys::ProcStat> stat = sys::ReadProcStat(pid);
  return stat.ok() && stat->start_time == start_time && stat->state != 'Z' &&
         stat->state != 'X';
}

std::vector<std::string> ParseFibTrieLocalAddresses(absl::string_view text) {
  std::vector<std::string> out;
  absl::string_view last;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    absl::string_view t = absl::StripAsciiWhitespace(line);
    if (absl::ConsumePrefix(&t, "|-- ")) {
      last = t;
    } else if (t == "/32 host LOCAL" && !last.empty()) {
      // The Main and Local tables list each address once each.
      if (std::find(out.begin(), out.end(), last) == out.end()) {
        out.emplace_back(last);
      }
    }
  }
  return out;
}

absl::StatusOr<bool> HasAddress(pid_t pid, absl::string_view ip) {
  const std::string text(ip);
  unsigned char want[16];
  if (::inet_pton(AF_INET, text.c_str(), want) == 1) {
    ASSIGN_OR_RETURN(std::string trie,
                     sys::ReadFile(ProcPath(pid, "net/fib_trie")));
    for (const std::string& local : ParseFibTrieLocalAddresses(trie)) {
      unsigned char have[4];
      if (::inet_pton(AF_INET, local.c_str(), have) == 1 &&
          std::memcmp(have, want, 4) == 0) {
        return true;
      }
    }
    return false;
  }
  if (::inet_pton(AF_INET6, text.c_str(), want) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", ip, "\" is not an IP address"));
  }
  // if_inet6: "<32 hex digits> <ifindex> <prefix> <scope> <flags> <name>".
  std::string hex;
  for (unsigned char byte : want) hex += absl::StrFormat("%02x", byte);
  ASSIGN_OR_RETURN(std::string inet6,
                   sys::ReadFile(ProcPath(pid, "net/if_inet6")));
  for (absl::string_view line : absl::StrSplit(inet6, '\n')) {
    if (absl::StartsWith(line, hex)) return true;
  }
  return false;
}

absl::StatusOr<std::string> HostnameOf(pid_t pid) {
  return RunInChild(UtsChild, ProcPath(pid, "ns/uts"),
                    absl::StrCat("read hostname of pid ", pid));
}

absl::StatusOr<std::string> SysfsDeviceOfNetns(absl::string_view netns_path) {
  ASSIGN_OR_RETURN(
      std::string answer,
      RunInChild(SysfsChild, netns_path,
                 absl::StrCat("mount sysfs in netns ", netns_path)));
  dev_t dev;
  if (answer.size() != sizeof(dev)) {
    return absl::InternalError(absl::StrCat("mount sysfs in netns ", netns_path,
                                            ": no device reported"));
  }
  std::memcpy(&dev, answer.data(), sizeof(dev));
  return absl::StrCat(major(dev), ":", minor(dev));
}

}  // namespace podsandbox::harness
