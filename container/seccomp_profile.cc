#include "container/seccomp_profile.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "sys/status.h"
#include "sys/unique_fd.h"

namespace podsandbox::container {
namespace {

using nlohmann::json;

constexpr absl::string_view kLocalhostField =
    "config.linux.security_context.seccomp.localhost_ref";
constexpr int kEperm = 1;
constexpr int kEnosys = 38;
// CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC |
// CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET: creating namespaces is
// CAP_SYS_ADMIN's business. (CLONE_NEWTIME exists only for clone3, whose
// flags no filter sees; clone's low byte is the exit signal.)
constexpr uint64_t kNamespaceFlags = 0x7E020000;
constexpr int kAfVsock = 40;

// Syscalls every container may make. Grouped by what they are for, so a
// reviewer can see why each is here; names a kernel or arch lacks are
// skipped by the runtime (runc and crun ignore unknown names).
const std::vector<std::string>& BaseSyscalls() {
  static const auto* names = new std::vector<std::string>{
      // Files and directories.
      "access", "chdir", "chmod", "chown", "chown32", "close", "close_range",
      "copy_file_range", "creat", "dup", "dup2", "dup3", "faccessat",
      "faccessat2", "fadvise64", "fadvise64_64", "fallocate", "fchdir",
      "fchmod", "fchmodat", "fchmodat2", "fchown", "fchown32", "fchownat",
      "fcntl", "fcntl64", "fdatasync", "flock", "fstat", "fstat64", "fstatat64",
      "fstatfs", "fstatfs64", "fsync", "ftruncate", "ftruncate64", "futimesat",
      "getcwd", "getdents", "getdents64", "lchown", "lchown32", "link",
      "linkat", "_llseek", "lseek", "lstat", "lstat64", "mkdir", "mkdirat",
      "mknod", "mknodat", "name_to_handle_at", "newfstatat", "open", "openat",
      "openat2", "pipe", "pipe2", "pread64", "preadv", "preadv2", "pwrite64",
      "pwritev", "pwritev2", "read", "readahead", "readlink", "readlinkat",
      "readv", "rename", "renameat", "renameat2", "rmdir", "sendfile",
      "sendfile64", "splice", "stat", "stat64", "statfs", "statfs64", "statx",
      "symlink", "symlinkat", "sync", "sync_file_range", "syncfs", "tee",
      "truncate", "truncate64", "umask", "unlink", "unlinkat", "utime",
      "utimensat", "utimensat_time64", "utimes", "vmsplice", "write", "writev",
      "ioctl",
      // Extended attributes.
      "fgetxattr", "flistxattr", "fremovexattr", "fsetxattr", "getxattr",
      "lgetxattr", "listxattr", "llistxattr", "lremovexattr", "lsetxattr",
      "removexattr", "setxattr",
      // Waiting for events.
      "epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old",
      "epoll_pwait", "epoll_pwait2", "epoll_wait", "epoll_wait_old", "eventfd",
      "eventfd2", "inotify_add_watch", "inotify_init", "inotify_init1",
      "inotify_rm_watch", "fanotify_mark", "poll", "ppoll", "ppoll_time64",
      "pselect6", "pselect6_time64", "select", "_newselect", "signalfd",
      "signalfd4", "timerfd_create", "timerfd_gettime", "timerfd_gettime64",
      "timerfd_settime", "timerfd_settime64",
      // Asynchronous I/O (not io_uring: see the header).
      "io_cancel", "io_destroy", "io_getevents", "io_pgetevents",
      "io_pgetevents_time64", "io_setup", "io_submit",
      // Memory.
      "brk", "get_mempolicy", "madvise", "mbind", "membarrier", "memfd_create",
      "memfd_secret", "mincore", "mlock", "mlock2", "mlockall", "mmap", "mmap2",
      "mprotect", "mremap", "msync", "munlock", "munlockall", "munmap",
      "pkey_alloc", "pkey_free", "pkey_mprotect", "remap_file_pages",
      "set_mempolicy", "set_mempolicy_home_node",
      // Processes and threads.
      "execve", "execveat", "exit", "exit_group", "fork", "vfork", "wait4",
      "waitid", "waitpid", "getpid", "getppid", "gettid", "getpgid", "getpgrp",
      "getsid", "setpgid", "setsid", "set_tid_address", "get_robust_list",
      "set_robust_list", "rseq", "restart_syscall", "futex", "futex_time64",
      "futex_waitv", "arch_prctl", "modify_ldt", "get_thread_area",
      "set_thread_area", "prctl", "seccomp", "capget", "capset", "getrlimit",
      "ugetrlimit", "setrlimit", "prlimit64", "getrusage", "getpriority",
      "setpriority", "ioprio_get", "ioprio_set", "sched_getaffinity",
      "sched_getattr", "sched_getparam", "sched_get_priority_max",
      "sched_get_priority_min", "sched_getscheduler", "sched_rr_get_interval",
      "sched_rr_get_interval_time64", "sched_setaffinity", "sched_setattr",
      "sched_setparam", "sched_setscheduler", "sched_yield", "getcpu",
      "pidfd_open", "pidfd_send_signal", "process_mrelease",
      "landlock_add_rule", "landlock_create_ruleset", "landlock_restrict_self",
      "uname", "sysinfo", "getrandom",
      // Credentials (the kernel checks CAP_SETUID/CAP_SETGID itself).
      "getuid", "getuid32", "geteuid", "geteuid32", "getgid", "getgid32",
      "getegid", "getegid32", "getresuid", "getresuid32", "getresgid",
      "getresgid32", "getgroups", "getgroups32", "setuid", "setuid32", "setgid",
      "setgid32", "setreuid", "setreuid32", "setregid", "setregid32",
      "setresuid", "setresuid32", "setresgid", "setresgid32", "setgroups",
      "setgroups32", "setfsuid", "setfsuid32", "setfsgid", "setfsgid32",
      // Signals.
      "kill", "tkill", "tgkill", "pause", "rt_sigaction", "rt_sigpending",
      "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend",
      "rt_sigtimedwait", "rt_sigtimedwait_time64", "rt_tgsigqueueinfo",
      "sigaltstack", "sigprocmask", "sigreturn",
      // Time (reading it; setting it needs CAP_SYS_TIME below).
      "adjtimex", "alarm", "clock_getres", "clock_getres_time64",
      "clock_gettime", "clock_gettime64", "clock_nanosleep",
      "clock_nanosleep_time64", "getitimer", "gettimeofday", "nanosleep",
      "setitimer", "time", "timer_create", "timer_delete", "timer_getoverrun",
      "timer_gettime", "timer_gettime64", "timer_settime", "timer_settime64",
      "times",
      // Sockets ("socket" itself is below, without AF_VSOCK).
      "accept", "accept4", "bind", "connect", "getpeername", "getsockname",
      "getsockopt", "listen", "recv", "recvfrom", "recvmmsg", "recvmmsg_time64",
      "recvmsg", "send", "sendmmsg", "sendmsg", "sendto", "setsockopt",
      "shutdown", "socketcall", "socketpair",
      // System V and POSIX IPC (the pod's IPC namespace).
      "ipc", "msgctl", "msgget", "msgrcv", "msgsnd", "semctl", "semget",
      "semop", "semtimedop", "semtimedop_time64", "shmat", "shmctl", "shmdt",
      "shmget", "mq_getsetattr", "mq_notify", "mq_open", "mq_timedreceive",
      "mq_timedreceive_time64", "mq_timedsend", "mq_timedsend_time64",
      "mq_unlink"};
  return *names;
}

// Syscalls allowed only with a capability: without it the kernel would
// refuse them anyway, and each is a large attack surface.
const std::vector<std::pair<std::string, std::vector<std::string>>>&
CapabilitySyscalls() {
  static const auto* table =
      new std::vector<std::pair<std::string, std::vector<std::string>>>{
          {"CAP_SYS_ADMIN",
           {"bpf",           "clone",           "clone3",
            "fanotify_init", "fsconfig",        "fsmount",
            "fsopen",        "fspick",          "lookup_dcookie",
            "mount",         "mount_setattr",   "move_mount",
            "open_tree",     "perf_event_open", "quotactl",
            "quotactl_fd",   "setdomainname",   "sethostname",
            "setns",         "syslog",          "umount",
            "umount2",       "unshare"}},
          {"CAP_SYS_BOOT", {"reboot"}},
          {"CAP_SYS_CHROOT", {"chroot"}},
          {"CAP_SYS_MODULE", {"delete_module", "init_module", "finit_module"}},
          {"CAP_SYS_PACCT", {"acct"}},
          {"CAP_SYS_PTRACE",
           {"kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv",
            "process_vm_writev", "ptrace"}},
          {"CAP_SYS_RAWIO", {"iopl", "ioperm"}},
          {"CAP_SYS_TIME",
           {"settimeofday", "stime", "clock_settime", "clock_settime64",
            "clock_adjtime", "clock_adjtime64"}},
          {"CAP_SYS_TTY_CONFIG", {"vhangup"}},
          {"CAP_SYS_NICE", {"move_pages", "migrate_pages"}},
          {"CAP_SYSLOG", {"syslog"}},
          {"CAP_BPF", {"bpf"}},
          {"CAP_PERFMON", {"perf_event_open"}},
          {"CAP_DAC_READ_SEARCH", {"open_by_handle_at"}},
      };
  return *table;
}

bool Has(const std::vector<std::string>& v, absl::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

json Allow(std::vector<std::string> names) {
  return {{"names", std::move(names)}, {"action", "SCMP_ACT_ALLOW"}};
}

json Arg(int index, uint64_t value, uint64_t value_two, const char* op) {
  return {
      {"index", index}, {"value", value}, {"valueTwo", value_two}, {"op", op}};
}

absl::Status Bad(absl::string_view field, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", why));
}

// Docker's "includes"/"excludes": {"caps": [...], "arches": [...]}.
bool Matches(const json& cond, const std::vector<std::string>& caps,
             bool need_all) {
  bool any = false;
  bool all = true;
  if (cond.contains("caps") && cond["caps"].is_array()) {
    for (const json& c : cond["caps"]) {
      bool has = c.is_string() && Has(caps, c.get<std::string>());
      any = any || has;
      all = all && has;
    }
  }
  if (cond.contains("arches") && cond["arches"].is_array()) {
    bool arch_match = false;
    for (const json& a : cond["arches"]) {
      if (!a.is_string()) continue;
      std::string name = a.get<std::string>();
      for (const std::string& native : NativeSeccompArchitectures()) {
        // Docker writes "amd64" or "x86_64" style names as well as
        // SCMP_ARCH_*; compare the SCMP form and the common aliases.
        if (native == name || native == absl::StrCat("SCMP_ARCH_", name) ||
            (name == "amd64" && native == "SCMP_ARCH_X86_64") ||
            (name == "arm64" && native == "SCMP_ARCH_AARCH64")) {
          arch_match = true;
        }
      }
    }
    any = any || arch_match;
    all = all && arch_match;
  }
  return need_all ? all : any;
}

absl::StatusOr<std::string> ReadProfileFile(sys::Sys& sys,
                                            const std::string& path) {
  // O_PATH, then fstat: a FIFO or device at the path is refused before it
  // is ever opened for reading.
  sys::SysResult r = sys.Open(path.c_str(), O_PATH | O_CLOEXEC, 0);
  if (!r.ok()) {
    if (r.err == ENOENT || r.err == ENOTDIR) {
      return Bad(kLocalhostField, absl::StrCat(path, " does not exist"));
    }
    return sys::Annotate(sys::ErrnoError(r.err, "open %s", path),
                         kLocalhostField);
  }
  sys::UniqueFd pathfd(static_cast<int>(r.value));
  struct stat st;
  if (fstat(pathfd.get(), &st) != 0) {
    return sys::ErrnoError(errno, "stat %s", path);
  }
  if (!S_ISREG(st.st_mode)) {
    return Bad(kLocalhostField, absl::StrCat(path, " is not a regular file"));
  }
  if (static_cast<uint64_t>(st.st_size) > kMaxSeccompProfileBytes) {
    return Bad(kLocalhostField,
               absl::StrCat(path, " holds ", st.st_size, " bytes, more than ",
                            kMaxSeccompProfileBytes));
  }
  std::string self = absl::StrCat("/proc/self/fd/", pathfd.get());
  sys::SysResult o = sys.Open(self.c_str(), O_RDONLY | O_CLOEXEC, 0);
  if (!o.ok()) return sys::ErrnoError(o.err, "open %s", path);
  sys::UniqueFd fd(static_cast<int>(o.value));
  std::string data;
  std::vector<char> buf(64 << 10);
  while (data.size() <= kMaxSeccompProfileBytes) {
    sys::SysResult n = sys.Read(fd.get(), buf.data(), buf.size());
    if (!n.ok()) {
      if (n.err == EINTR) continue;
      return sys::ErrnoError(n.err, "read %s", path);
    }
    if (n.value == 0) return data;
    data.append(buf.data(), static_cast<size_t>(n.value));
  }
  return Bad(kLocalhostField, absl::StrCat(path, " grew past ",
                                           kMaxSeccompProfileBytes, " bytes"));
}

}  // namespace

const std::vector<std::string>& NativeSeccompArchitectures() {
  static const auto* arches = new std::vector<std::string> {
#if defined(__x86_64__)
    "SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"
#elif defined(__aarch64__)
    "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"
#elif defined(__i386__)
    "SCMP_ARCH_X86"
#else
#error "add this architecture's SCMP_ARCH_ names"
#endif
  };
  return *arches;
}

nlohmann::json RuntimeDefaultSeccomp(const std::vector<std::string>& caps) {
  json syscalls = json::array();
  syscalls.push_back(Allow(BaseSyscalls()));

  std::vector<std::string> with_caps;
  for (const auto& [cap, names] : CapabilitySyscalls()) {
    if (!Has(caps, cap)) continue;
    for (const std::string& name : names) {
      if (!Has(with_caps, name)) with_caps.push_back(name);
    }
  }
  if (!with_caps.empty()) syscalls.push_back(Allow(with_caps));

  if (!Has(caps, "CAP_SYS_ADMIN")) {
    // clone without namespace flags: every fork and thread uses it.
    json clone = Allow({"clone"});
    clone["args"] =
        json::array({Arg(0, kNamespaceFlags, 0, "SCMP_CMP_MASKED_EQ")});
    syscalls.push_back(std::move(clone));
    // clone3 passes its flags in memory, out of the filter's sight: make
    // libc fall back to clone, which the rule above checks.
    syscalls.push_back({{"names", {"clone3"}},
                        {"action", "SCMP_ACT_ERRNO"},
                        {"errnoRet", kEnosys}});
  }
  // personality: only the harmless personas (PER_LINUX, PER_LINUX32,
  // UNAME26 and their mix) and the query 0xffffffff; others disable ASLR
  // or change how the kernel reads memory.
  for (uint64_t persona :
       {0x0ull, 0x8ull, 0x20000ull, 0x20008ull, 0xffffffffull}) {
    json p = Allow({"personality"});
    p["args"] = json::array({Arg(0, persona, 0, "SCMP_CMP_EQ")});
    syscalls.push_back(std::move(p));
  }
  // Sockets of any family but AF_VSOCK, which reaches the hypervisor.
  json socket = Allow({"socket"});
  socket["args"] = json::array({Arg(0, kAfVsock, 0, "SCMP_CMP_NE")});
  syscalls.push_back(std::move(socket));

  return {{"defaultAction", "SCMP_ACT_ERRNO"},
          {"defaultErrnoRet", kEperm},
          {"architectures", NativeSeccompArchitectures()},
          {"syscalls", std::move(syscalls)}};
}

absl::StatusOr<nlohmann::json> ParseSeccompProfile(
    absl::string_view text, const std::vector<std::string>& caps,
    absl::string_view field) {
  json in = json::parse(text.begin(), text.end(), nullptr, false);
  if (in.is_discarded() || !in.is_object()) {
    return Bad(field, "not a JSON object");
  }
  if (!in.contains("defaultAction") || !in["defaultAction"].is_string()) {
    return Bad(field, "defaultAction: required, a string");
  }
  json out = {{"defaultAction", in["defaultAction"]}};
  if (in.contains("defaultErrnoRet")) {
    if (!in["defaultErrnoRet"].is_number_unsigned()) {
      return Bad(field, "defaultErrnoRet: must be a non-negative number");
    }
    out["defaultErrnoRet"] = in["defaultErrnoRet"];
  }
  json arches = json::array();
  if (in.contains("architectures")) {
    if (!in["architectures"].is_array()) {
      return Bad(field, "architectures: must be an array");
    }
    arches = in["architectures"];
  }
  if (in.contains("archMap")) {
    if (!in["archMap"].is_array()) {
      return Bad(field, "archMap: must be an array");
    }
    // Docker's form: keep the entry for this machine's architecture and
    // its sub-architectures.
    for (const json& entry : in["archMap"]) {
      if (!entry.is_object() || !entry.contains("architecture") ||
          !entry["architecture"].is_string()) {
        return Bad(field, "archMap: each entry needs an architecture");
      }
      if (entry["architecture"] != NativeSeccompArchitectures()[0]) continue;
      arches.push_back(entry["architecture"]);
      if (entry.contains("subArchitectures") &&
          entry["subArchitectures"].is_array()) {
        for (const json& sub : entry["subArchitectures"]) {
          arches.push_back(sub);
        }
      }
    }
  }
  if (!arches.empty()) out["architectures"] = std::move(arches);
  if (in.contains("flags")) out["flags"] = in["flags"];

  json syscalls = json::array();
  if (in.contains("syscalls")) {
    if (!in["syscalls"].is_array()) {
      return Bad(field, "syscalls: must be an array");
    }
    size_t i = 0;
    for (const json& rule : in["syscalls"]) {
      std::string where = absl::StrCat("syscalls[", i++, "]");
      if (!rule.is_object() || !rule.contains("action") ||
          !rule["action"].is_string()) {
        return Bad(field, absl::StrCat(where, ": needs an action"));
      }
      if (rule.contains("includes") && rule["includes"].is_object() &&
          !rule["includes"].empty() &&
          !Matches(rule["includes"], caps, /*need_all=*/true)) {
        continue;
      }
      if (rule.contains("excludes") && rule["excludes"].is_object() &&
          !rule["excludes"].empty() &&
          Matches(rule["excludes"], caps, /*need_all=*/false)) {
        continue;
      }
      json names = json::array();
      if (rule.contains("names") && rule["names"].is_array()) {
        names = rule["names"];
      } else if (rule.contains("name") && rule["name"].is_string()) {
        names.push_back(rule["name"]);
      }
      if (names.empty()) {
        return Bad(field, absl::StrCat(where, ": names an empty list"));
      }
      for (const json& n : names) {
        if (!n.is_string()) {
          return Bad(field, absl::StrCat(where, ": names must be strings"));
        }
      }
      json r = {{"names", std::move(names)}, {"action", rule["action"]}};
      if (rule.contains("errnoRet")) r["errnoRet"] = rule["errnoRet"];
      if (rule.contains("args") && !rule["args"].is_null()) {
        if (!rule["args"].is_array()) {
          return Bad(field, absl::StrCat(where, ": args must be an array"));
        }
        r["args"] = rule["args"];
      }
      syscalls.push_back(std::move(r));
    }
  }
  out["syscalls"] = std::move(syscalls);
  return out;
}

absl::StatusOr<std::optional<nlohmann::json>> SeccompFor(
    sys::Sys& sys, const SecurityProfile& profile, bool privileged,
    const std::vector<std::string>& caps) {
  if (privileged) return std::nullopt;
  switch (profile.type) {
    case ProfileType::kUnconfined:
      return std::nullopt;
    case ProfileType::kRuntimeDefault:
      return RuntimeDefaultSeccomp(caps);
    case ProfileType::kLocalhost: {
      if (profile.localhost_ref.empty() || profile.localhost_ref[0] != '/') {
        return Bad(kLocalhostField, "must be an absolute path");
      }
      ASSIGN_OR_RETURN(std::string text,
                       ReadProfileFile(sys, profile.localhost_ref));
      ASSIGN_OR_RETURN(json parsed, ParseSeccompProfile(
                                        text, caps,
                                        absl::StrCat(kLocalhostField, " ",
                                                     profile.localhost_ref)));
      return parsed;
    }
  }
  return Bad("config.linux.security_context.seccomp.profile_type",
             "unknown value");
}

}  // namespace podsandbox::container
