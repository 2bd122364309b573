#include "oci/builtin_launcher.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <linux/close_range.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "sys/file.h"
#include "sys/raw_syscall.h"
#include "sys/status.h"
#include "sys/unique_fd.h"

namespace podsandbox::oci {
namespace {

using nlohmann::json;
using sys::RawSyscall3;
using sys::RawSyscall6;

// Stage 2's stack, in stage 1's copy of our memory. It runs straight-line
// code with a few locals, then execs.
constexpr size_t kStage2StackSize = 64 * 1024;

// What the children did, as they report it on the pipe: stage 1 sends
// {kPid, 0, 0, pid} once it cloned stage 2; either sends {step, index,
// errno, 0} when a step fails. 16 bytes: below PIPE_BUF, so atomic.
enum Step : int32_t {
  kPid = 0,
  kJoinCgroup,
  kOomScoreAdj,
  kSetnsUser,
  kSetnsNet,
  kUnshare,
  kSethostname,
  kCloneInit,
  kSetsid,
  kRootSlave,
  kBindRootfs,
  kMkdir,
  kMount,
  kRemount,
  kRecursiveReadonly,
  kMask,
  kReadonlyBind,
  kReadonly,
  kSysctl,
  kChdirRootfs,
  kPivotRoot,
  kUmountOldRoot,
  kChdirRoot,
  kReadonlyRoot,
  kDropBounding,
  kClearAmbient,
  kSetgroups,
  kSetresgid,
  kSetresuid,
  kCapset,
  kNoNewPrivs,
  kStdio,
  kCloseFds,
  kExec,
};

struct Report {
  int32_t step = 0;
  int32_t index = 0;
  int32_t err = 0;
  int32_t pid = 0;
};

// The children's whole input, built by the parent before the fork.
struct ChildContext {
  const LaunchPlan* plan = nullptr;
  int report_fd = -1;
  int userns_fd = -1;
  int netns_fd = -1;
  int devnull_fd = -1;
  const int* procs = nullptr;
  size_t procs_count = 0;
  char* stage2_stack_top = nullptr;
  char* const* argv = nullptr;
  char* const* envp = nullptr;
  int cap_last_cap = 0;
  std::string oom_score_adj;
};

// The kernel's struct sigaction for rt_sigaction(2) (not libc's).
struct KernelSigaction {
  unsigned long handler;
  unsigned long flags;
  unsigned long restorer;
  uint64_t mask;
};

long Sys3(long number, long a = 0, long b = 0, long c = 0) {
  return RawSyscall3(number, a, b, c);
}

long Sys5(long number, long a, long b, long c, long d, long e) {
  return RawSyscall6(number, a, b, c, d, e, 0);
}

long Str(const std::string& s) {
  return s.empty() ? 0 : reinterpret_cast<long>(s.c_str());
}

// Reports the failure of `step` (the raw result `result`, -errno) and
// returns the child's exit code.
int Fail(const ChildContext& c, Step step, size_t index, long result) {
  Report report;
  report.step = step;
  report.index = static_cast<int32_t>(index);
  report.err = static_cast<int32_t>(-result);
  (void)Sys3(SYS_write, c.report_fd, reinterpret_cast<long>(&report),
             sizeof(report));
  return 1;
}

int RunMountStep(const ChildContext& c, size_t i, const MountStep& m) {
  long r = 0;
  switch (m.kind) {
    case MountStep::Kind::kMount: {
      r = Sys3(SYS_mkdir, Str(m.target), 0755);
      if (r < 0 && r != -EEXIST) return Fail(c, kMkdir, i, r);
      r = Sys5(SYS_mount, Str(m.source), Str(m.target), Str(m.fstype),
               static_cast<long>(m.flags), Str(m.data));
      if (r < 0) return Fail(c, kMount, i, r);
      if (m.remount_flags != 0) {
        r = Sys5(SYS_mount, 0, Str(m.target), 0,
                 static_cast<long>(MS_BIND | MS_REMOUNT | m.remount_flags), 0);
        if (r < 0) return Fail(c, kRemount, i, r);
      }
      if (m.recursive_readonly) {
        struct mount_attr attr = {};
        attr.attr_set = MOUNT_ATTR_RDONLY;
        r = Sys5(SYS_mount_setattr, AT_FDCWD, Str(m.target), AT_RECURSIVE,
                 reinterpret_cast<long>(&attr), sizeof(attr));
        if (r < 0) return Fail(c, kRecursiveReadonly, i, r);
      }
      return 0;
    }
    case MountStep::Kind::kMask: {
      // As runc: /dev/null over a file, an empty read-only tmpfs over a
      // directory. The host's /dev/null: we have not pivoted yet.
      r = Sys5(SYS_mount, reinterpret_cast<long>("/dev/null"), Str(m.target), 0,
               MS_BIND, 0);
      if (r == -ENOTDIR) {
        r = Sys5(SYS_mount, reinterpret_cast<long>("tmpfs"), Str(m.target),
                 reinterpret_cast<long>("tmpfs"), MS_RDONLY, 0);
      }
      if (r == -ENOENT) return 0;
      if (r < 0) return Fail(c, kMask, i, r);
      return 0;
    }
    case MountStep::Kind::kReadonly: {
      r = Sys5(SYS_mount, Str(m.target), Str(m.target), 0, MS_BIND | MS_REC, 0);
      if (r == -ENOENT) return 0;
      if (r < 0) return Fail(c, kReadonlyBind, i, r);
      // mount_setattr changes the read-only bit alone, so the flags the
      // bind inherited (nosuid, nodev, noexec of /proc) stay as they are.
      struct mount_attr attr = {};
      attr.attr_set = MOUNT_ATTR_RDONLY;
      r = Sys5(SYS_mount_setattr, AT_FDCWD, Str(m.target), 0,
               reinterpret_cast<long>(&attr), sizeof(attr));
      if (r < 0) return Fail(c, kReadonly, i, r);
      return 0;
    }
    case MountStep::Kind::kWrite: {
      long fd = Sys3(SYS_openat, AT_FDCWD, Str(m.target), O_WRONLY | O_CLOEXEC);
      if (fd < 0) return Fail(c, kSysctl, i, fd);
      r = Sys3(SYS_write, fd, Str(m.data), static_cast<long>(m.data.size()));
      (void)Sys3(SYS_close, fd);
      if (r < 0) return Fail(c, kSysctl, i, r);
      return 0;
    }
  }
  return 0;
}

// Stage 2: PID 1 of the pod's PID namespace, on stage 1's memory (CLONE_VM)
// without a thread control block of its own: raw syscalls only.
int Stage2(void* arg) {
  const ChildContext& c = *static_cast<const ChildContext*>(arg);
  const LaunchPlan& p = *c.plan;
  long r = 0;

  // The daemon's signal mask and ignored signals would survive the exec
  // (signal(7)); the pause gets no ignored signal and exactly the mask it
  // sets itself first thing (SIGINT, SIGTERM, SIGCHLD blocked). Blocked
  // from before the exec, because a PID namespace's init drops a signal it
  // leaves at SIG_DFL unless the signal is blocked (signal(7), "blocked
  // signals are never ignored"): a Stop's SIGTERM sent between the exec and
  // the pause's sigprocmask would be lost and Stop would wait out its whole
  // grace period; blocked, it stays pending and the pause's sigwaitinfo
  // takes it.
  uint64_t pause_set = (1ULL << (SIGINT - 1)) | (1ULL << (SIGTERM - 1)) |
                       (1ULL << (SIGCHLD - 1));
  (void)Sys5(SYS_rt_sigprocmask, SIG_SETMASK,
             reinterpret_cast<long>(&pause_set), 0, sizeof(pause_set), 0);
  KernelSigaction dfl = {reinterpret_cast<unsigned long>(SIG_DFL), 0, 0, 0};
  for (int sig = 1; sig <= 64; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    (void)Sys5(SYS_rt_sigaction, sig, reinterpret_cast<long>(&dfl), 0,
               sizeof(uint64_t), 0);
  }

  // A session of its own, as runc's init makes (the pause is then its
  // namespace's session and group leader, not in the daemon's).
  r = Sys3(SYS_setsid);
  if (r < 0) return Fail(c, kSetsid, 0, r);

  // Our mounts must not propagate back to the host, and pivot_root(2)
  // refuses a shared root.
  r = Sys5(SYS_mount, 0, reinterpret_cast<long>("/"), 0, MS_REC | MS_SLAVE, 0);
  if (r < 0) return Fail(c, kRootSlave, 0, r);
  // pivot_root(2) needs the new root to be a mount point.
  r = Sys5(SYS_mount, Str(p.rootfs), Str(p.rootfs), 0, MS_BIND | MS_REC, 0);
  if (r < 0) return Fail(c, kBindRootfs, 0, r);
  for (size_t i = 0; i < p.mounts.size(); ++i) {
    if (int failed = RunMountStep(c, i, p.mounts[i]); failed != 0) {
      return failed;
    }
  }

  // runc's pivot: the old root stacked under the new one, then detached.
  r = Sys3(SYS_chdir, Str(p.rootfs));
  if (r < 0) return Fail(c, kChdirRootfs, 0, r);
  r = Sys3(SYS_pivot_root, reinterpret_cast<long>("."),
           reinterpret_cast<long>("."));
  if (r < 0) return Fail(c, kPivotRoot, 0, r);
  r = Sys3(SYS_umount2, reinterpret_cast<long>("."), MNT_DETACH);
  if (r < 0) return Fail(c, kUmountOldRoot, 0, r);
  r = Sys3(SYS_chdir, reinterpret_cast<long>("/"));
  if (r < 0) return Fail(c, kChdirRoot, 0, r);
  if (p.readonly_root) {
    struct mount_attr attr = {};
    attr.attr_set = MOUNT_ATTR_RDONLY;
    r = Sys5(SYS_mount_setattr, AT_FDCWD, reinterpret_cast<long>("/"), 0,
             reinterpret_cast<long>(&attr), sizeof(attr));
    if (r < 0) return Fail(c, kReadonlyRoot, 0, r);
  }

  // Capabilities: the bounding set needs CAP_SETPCAP to shrink, so it goes
  // before the uid change clears the effective set.
  for (int cap = 0; cap <= c.cap_last_cap; ++cap) {
    r = Sys5(SYS_prctl, PR_CAPBSET_DROP, cap, 0, 0, 0);
    if (r < 0 && r != -EINVAL) return Fail(c, kDropBounding, cap, r);
  }
  r = Sys5(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  if (r < 0) return Fail(c, kClearAmbient, 0, r);
  // EPERM: the user namespace's setgroups is "deny"; runc then leaves the
  // groups alone too.
  r = Sys3(SYS_setgroups, 0, 0);
  if (r < 0 && r != -EPERM) return Fail(c, kSetgroups, 0, r);
  r = Sys3(SYS_setresgid, p.gid, p.gid, p.gid);
  if (r < 0) return Fail(c, kSetresgid, 0, r);
  r = Sys3(SYS_setresuid, p.uid, p.uid, p.uid);
  if (r < 0) return Fail(c, kSetresuid, 0, r);
  // A uid 0 pause keeps its permitted and effective sets across setresuid;
  // clear all three (with an empty bounding set, exec grants none back).
  struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2] = {};
  r = Sys3(SYS_capset, reinterpret_cast<long>(&header),
           reinterpret_cast<long>(data));
  if (r < 0) return Fail(c, kCapset, 0, r);
  if (p.no_new_privileges) {
    r = Sys5(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    if (r < 0) return Fail(c, kNoNewPrivs, 0, r);
  }

  for (int fd = 0; fd <= 2; ++fd) {
    if (c.devnull_fd == fd) continue;
    r = Sys3(SYS_dup3, c.devnull_fd, fd, 0);
    if (r < 0) return Fail(c, kStdio, fd, r);
  }
  // Everything else we inherited closes at exec; the report pipe stays open
  // until then, so its EOF means the exec happened.
  r = Sys3(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
  if (r < 0) return Fail(c, kCloseFds, 0, r);
  r = Sys3(SYS_execve, reinterpret_cast<long>(c.argv[0]),
           reinterpret_cast<long>(c.argv), reinterpret_cast<long>(c.envp));
  return Fail(c, kExec, 0, r);
}

// Stage 1: a fork-like copy of the daemon, single-threaded, still in the
// host's namespaces as host root.
int Stage1(void* arg) {
  const ChildContext& c = *static_cast<const ChildContext*>(arg);
  const LaunchPlan& p = *c.plan;
  long r = 0;
  // "0" is the writer itself (cgroups(7)); stage 2 inherits the cgroups.
  for (size_t i = 0; i < c.procs_count; ++i) {
    r = Sys3(SYS_write, c.procs[i], reinterpret_cast<long>("0"), 1);
    if (r < 0) return Fail(c, kJoinCgroup, i, r);
  }
  long fd = Sys3(SYS_openat, AT_FDCWD,
                 reinterpret_cast<long>("/proc/self/oom_score_adj"),
                 O_WRONLY | O_CLOEXEC);
  if (fd < 0) return Fail(c, kOomScoreAdj, 0, fd);
  r = Sys3(SYS_write, fd, Str(c.oom_score_adj),
           static_cast<long>(c.oom_score_adj.size()));
  (void)Sys3(SYS_close, fd);
  if (r < 0) return Fail(c, kOomScoreAdj, 0, r);
  // The user namespace first: the namespaces unshared below then belong to
  // it, as runc's do, and its capabilities cover the mounts of stage 2.
  if (c.userns_fd >= 0) {
    r = Sys3(SYS_setns, c.userns_fd, CLONE_NEWUSER);
    if (r < 0) return Fail(c, kSetnsUser, 0, r);
    // Host root is unmapped in the pod's namespace, and the kernel refuses
    // to create files (the mount points in the new /dev) for an unmapped
    // fsuid (EOVERFLOW). Become the namespace's root, as runc does; from a
    // uid that was not root there, the capabilities setns gave stay.
    r = Sys3(SYS_setresgid, 0, 0, 0);
    if (r < 0) return Fail(c, kSetresgid, 0, r);
    r = Sys3(SYS_setresuid, 0, 0, 0);
    if (r < 0) return Fail(c, kSetresuid, 0, r);
  }
  if (c.netns_fd >= 0) {
    r = Sys3(SYS_setns, c.netns_fd, CLONE_NEWNET);
    if (r < 0) return Fail(c, kSetnsNet, 0, r);
  }
  r = Sys3(SYS_unshare, p.unshare_flags);
  if (r < 0) return Fail(c, kUnshare, 0, r);
  if (!p.hostname.empty()) {
    r = Sys3(SYS_sethostname, Str(p.hostname),
             static_cast<long>(p.hostname.size()));
    if (r < 0) return Fail(c, kSethostname, 0, r);
  }
  // glibc's clone(2) wrapper: a raw clone cannot start a C function on a
  // new stack. The wrapper touches no lock and, in the child, only calls
  // Stage2 and exits; here it may set errno, in our own copy of memory.
  int pid = ::clone(Stage2, c.stage2_stack_top,
                    CLONE_VM | CLONE_PARENT | SIGCHLD, arg);
  if (pid < 0) return Fail(c, kCloneInit, 0, -errno);
  Report report;
  report.step = kPid;
  report.pid = pid;
  (void)Sys3(SYS_write, c.report_fd, reinterpret_cast<long>(&report),
             sizeof(report));
  return 0;
}

std::string DescribeStep(const LaunchPlan& plan, const Report& r) {
  auto target = [&]() -> std::string {
    if (r.index < 0 || static_cast<size_t>(r.index) >= plan.mounts.size()) {
      return "?";
    }
    return plan.mounts[r.index].target;
  };
  switch (static_cast<Step>(r.step)) {
    case kJoinCgroup:
      return absl::StrCat("join cgroup (cgroup.procs #", r.index, ")");
    case kOomScoreAdj:
      return "write oom_score_adj";
    case kSetnsUser:
      return absl::StrCat("join user namespace ", plan.userns);
    case kSetnsNet:
      return absl::StrCat("join network namespace ", plan.netns);
    case kUnshare:
      return "unshare mount/UTS/IPC/PID namespaces";
    case kSethostname:
      return absl::StrCat("set hostname ", plan.hostname);
    case kCloneInit:
      return "clone the pause (PID 1 of the pod)";
    case kSetsid:
      return "setsid";
    case kRootSlave:
      return "make / a recursive slave";
    case kBindRootfs:
      return absl::StrCat("bind rootfs ", plan.rootfs);
    case kMkdir:
      return absl::StrCat("mkdir ", target());
    case kMount:
      return absl::StrCat(
          "mount ",
          r.index >= 0 && static_cast<size_t>(r.index) < plan.mounts.size()
              ? plan.mounts[r.index].fstype
              : "",
          " on ", target());
    case kRemount:
      return absl::StrCat("remount ", target());
    case kRecursiveReadonly:
      return absl::StrCat("make read-only (recursively) ", target());
    case kMask:
      return absl::StrCat("mask ", target());
    case kReadonlyBind:
    case kReadonly:
      return absl::StrCat("make read-only ", target());
    case kSysctl:
      return absl::StrCat("write sysctl ", target());
    case kChdirRootfs:
    case kPivotRoot:
    case kUmountOldRoot:
    case kChdirRoot:
      return absl::StrCat("pivot_root into ", plan.rootfs);
    case kReadonlyRoot:
      return "make / read-only";
    case kDropBounding:
      return absl::StrCat("drop capability ", r.index,
                          " from the bounding set");
    case kClearAmbient:
      return "clear ambient capabilities";
    case kSetgroups:
      return "setgroups";
    case kSetresgid:
      return absl::StrCat("setresgid ", plan.gid);
    case kSetresuid:
      return absl::StrCat("setresuid ", plan.uid);
    case kCapset:
      return "clear capabilities";
    case kNoNewPrivs:
      return "set no_new_privs";
    case kStdio:
      return "put /dev/null on stdio";
    case kCloseFds:
      return "close inherited file descriptors";
    case kExec:
      return absl::StrCat("exec ", plan.args.empty() ? "" : plan.args[0]);
    case kPid:
      break;
  }
  return absl::StrCat("step ", r.step);
}

absl::StatusOr<int> CapLastCap() {
  ASSIGN_OR_RETURN(std::string text,
                   sys::ReadFile("/proc/sys/kernel/cap_last_cap"));
  int value = 0;
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(text), &value) ||
      value < 0 || value > 63) {
    return absl::InternalError(
        absl::StrCat("read /proc/sys/kernel/cap_last_cap: \"", text, "\""));
  }
  return value;
}

// The process of one Launch: stage 1 through its pidfd, the pause once
// stage 1 named it. Until Release, destruction kills and reaps both (both
// are our unreaped children, so their pids cannot have been reused).
class Launched {
 public:
  Launched(sys::Sys& sys, sys::UniqueFd stage1)
      : sys_(sys), stage1_(std::move(stage1)) {}
  ~Launched() {
    if (released_) return;
    (void)sys_.PidfdSendSignal(stage1_.get(), SIGKILL);
    if (pause_ > 0) (void)sys_.Kill(pause_, SIGKILL);
    (void)ReapStage1();
    if (pause_ > 0) {
      for (int attempt = 0; attempt < 3; ++attempt) {
        siginfo_t info;
        sys::SysResult r =
            sys_.Waitid(P_PID, static_cast<id_t>(pause_), &info, WEXITED);
        if (r.ok() || r.err == ECHILD) break;
      }
    }
  }

  void set_pause(pid_t pid) { pause_ = pid; }
  pid_t pause() const { return pause_; }
  void Release() { released_ = true; }

  // Waits for stage 1 to exit; its exit status, or the errno.
  absl::StatusOr<int> ReapStage1() {
    if (reaped_) return exit_status_;
    sys::SysResult r;
    siginfo_t info = {};
    for (int attempt = 0; attempt < 3; ++attempt) {
      r = sys_.Waitid(P_PIDFD, static_cast<id_t>(stage1_.get()), &info,
                      WEXITED);
      if (r.ok() || r.err != EINTR) break;
    }
    if (!r.ok()) return sys::ErrnoError(r.err, "wait for pause launcher");
    reaped_ = true;
    exit_status_ =
        info.si_code == CLD_EXITED ? info.si_status : 128 + info.si_status;
    return exit_status_;
  }

 private:
  sys::Sys& sys_;
  sys::UniqueFd stage1_;
  pid_t pause_ = 0;
  bool released_ = false;
  bool reaped_ = false;
  int exit_status_ = 0;
};

absl::Status Invalid(absl::string_view field, absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("config.json ", field, ": ", why));
}

bool CleanAbsolute(absl::string_view path) {
  if (path.empty() || path[0] != '/') return false;
  for (absl::string_view part : absl::StrSplit(path, '/')) {
    if (part == "..") return false;
  }
  return true;
}

absl::StatusOr<std::string> StringAt(const json& object, const char* key,
                                     absl::string_view field) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_string()) {
    return Invalid(field, "must be a string");
  }
  return it->get<std::string>();
}

absl::StatusOr<std::vector<std::string>> Strings(const json& value,
                                                 absl::string_view field) {
  if (!value.is_array()) return Invalid(field, "must be an array of strings");
  std::vector<std::string> out;
  for (const json& item : value) {
    if (!item.is_string()) return Invalid(field, "must be an array of strings");
    out.push_back(item.get<std::string>());
  }
  return out;
}

// One OCI mount as runc does it: known options are flags, the rest data.
absl::StatusOr<MountStep> MountFromOci(const json& m, size_t i,
                                       absl::string_view rootfs) {
  const std::string field = absl::StrCat("mounts[", i, "]");
  if (!m.is_object()) return Invalid(field, "must be an object");
  ASSIGN_OR_RETURN(std::string destination,
                   StringAt(m, "destination", field + ".destination"));
  if (!CleanAbsolute(destination)) {
    return Invalid(field + ".destination", "must be absolute, without ..");
  }
  std::string type, source;
  if (m.contains("type")) {
    ASSIGN_OR_RETURN(type, StringAt(m, "type", field + ".type"));
  }
  if (m.contains("source")) {
    ASSIGN_OR_RETURN(source, StringAt(m, "source", field + ".source"));
  }
  std::vector<std::string> options;
  if (m.contains("options")) {
    ASSIGN_OR_RETURN(options, Strings(m["options"], field + ".options"));
  }
  MountStep step;
  step.kind = MountStep::Kind::kMount;
  step.target = absl::StrCat(rootfs, destination);
  step.source = source;
  unsigned long flags = 0;
  std::vector<std::string> data;
  for (const std::string& o : options) {
    if (o == "ro") {
      flags |= MS_RDONLY;
    } else if (o == "rw") {
      flags &= ~static_cast<unsigned long>(MS_RDONLY);
    } else if (o == "nosuid") {
      flags |= MS_NOSUID;
    } else if (o == "nodev") {
      flags |= MS_NODEV;
    } else if (o == "noexec") {
      flags |= MS_NOEXEC;
    } else if (o == "strictatime") {
      flags |= MS_STRICTATIME;
    } else if (o == "relatime") {
      flags |= MS_RELATIME;
    } else if (o == "noatime") {
      flags |= MS_NOATIME;
    } else if (o == "bind") {
      flags |= MS_BIND;
    } else if (o == "rbind") {
      flags |= MS_BIND | MS_REC;
    } else if (o == "rro") {
      step.recursive_readonly = true;
    } else {
      data.push_back(o);
    }
  }
  if ((flags & MS_BIND) != 0) {
    // A bind takes its flags only from a remount (mount(2)).
    if (!data.empty()) {
      return Invalid(field + ".options",
                     absl::StrCat("unknown option \"", data[0], "\""));
    }
    step.flags = flags & (MS_BIND | MS_REC);
    step.remount_flags = flags & ~static_cast<unsigned long>(MS_BIND | MS_REC);
  } else {
    if (type.empty()) return Invalid(field + ".type", "must be set");
    step.fstype = type;
    step.flags = flags;
    step.data = absl::StrJoin(data, ",");
  }
  return step;
}

absl::StatusOr<std::vector<userns::IdMapping>> MappingListFromOci(
    const json& list, absl::string_view field) {
  if (!list.is_array() || list.empty()) {
    return Invalid(field, "a new user namespace needs its maps");
  }
  std::vector<userns::IdMapping> out;
  for (const json& m : list) {
    if (!m.is_object() || !m.contains("containerID") || !m.contains("hostID") ||
        !m.contains("size") || !m["containerID"].is_number_unsigned() ||
        !m["hostID"].is_number_unsigned() || !m["size"].is_number_unsigned()) {
      return Invalid(field, "entries need containerID, hostID and size");
    }
    out.push_back({m["containerID"].get<uint32_t>(),
                   m["hostID"].get<uint32_t>(), m["size"].get<uint32_t>()});
  }
  return out;
}

absl::StatusOr<userns::IdMappings> MappingsFromOci(const json& linux) {
  userns::IdMappings maps;
  ASSIGN_OR_RETURN(maps.uids,
                   MappingListFromOci(linux.value("uidMappings", json()),
                                      "linux.uidMappings"));
  ASSIGN_OR_RETURN(maps.gids,
                   MappingListFromOci(linux.value("gidMappings", json()),
                                      "linux.gidMappings"));
  return maps;
}

}  // namespace

absl::StatusOr<LaunchPlan> PlanFromOciSpec(const json& config) {
  if (!config.is_object()) return Invalid("", "must be an object");
  LaunchPlan plan;
  const json& root = config.value("root", json::object());
  ASSIGN_OR_RETURN(plan.rootfs, StringAt(root, "path", "root.path"));
  if (!CleanAbsolute(plan.rootfs)) {
    return Invalid("root.path", "must be absolute, without ..");
  }
  plan.readonly_root = root.value("readonly", false);

  const json& process = config.value("process", json::object());
  if (!process.contains("args")) return Invalid("process.args", "missing");
  ASSIGN_OR_RETURN(plan.args, Strings(process["args"], "process.args"));
  if (plan.args.empty() || !CleanAbsolute(plan.args[0])) {
    return Invalid("process.args", "args[0] must be an absolute path");
  }
  if (process.contains("env")) {
    ASSIGN_OR_RETURN(plan.env, Strings(process["env"], "process.env"));
  }
  if (process.value("terminal", false)) {
    return Invalid("process.terminal",
                   "the builtin gives the pause no terminal");
  }
  if (process.value("cwd", std::string("/")) != "/") {
    return Invalid("process.cwd", "the builtin starts the pause in /");
  }
  const json& user = process.value("user", json::object());
  plan.uid = user.value("uid", 0u);
  plan.gid = user.value("gid", 0u);
  if (user.contains("additionalGids") && !user["additionalGids"].empty()) {
    return Invalid("process.user.additionalGids", "not supported by builtin");
  }
  if (process.contains("capabilities")) {
    for (const auto& [set, caps] : process["capabilities"].items()) {
      if (!caps.is_array() || !caps.empty()) {
        return Invalid(absl::StrCat("process.capabilities.", set),
                       "the builtin runs the pause without capabilities");
      }
    }
  }
  plan.no_new_privileges = process.value("noNewPrivileges", false);
  plan.oom_score_adj = process.value("oomScoreAdj", 0);
  if (process.contains("rlimits") || process.contains("apparmorProfile") ||
      process.contains("selinuxLabel")) {
    return Invalid("process",
                   "rlimits and LSM labels are not supported by builtin");
  }

  const json& linux = config.value("linux", json::object());
  bool mount_ns = false;
  for (const json& ns : linux.value("namespaces", json::array())) {
    std::string type = ns.value("type", "");
    std::string path = ns.value("path", "");
    const std::string field = absl::StrCat("linux.namespaces[", type, "]");
    if (!path.empty() && type != "network" && type != "user") {
      return Invalid(field + ".path",
                     "the builtin joins only network and user");
    }
    if (type == "pid") {
      plan.unshare_flags |= CLONE_NEWPID;
    } else if (type == "ipc") {
      plan.unshare_flags |= CLONE_NEWIPC;
    } else if (type == "uts") {
      plan.unshare_flags |= CLONE_NEWUTS;
    } else if (type == "mount") {
      mount_ns = true;
    } else if (type == "user" && path.empty()) {
      ASSIGN_OR_RETURN(plan.new_userns, MappingsFromOci(linux));
    } else if (type == "network" || type == "user") {
      // A new netns would have no network (CNI configures the pinned one):
      // the controller pins it before the task step.
      if (!CleanAbsolute(path)) {
        return Invalid(
            field + ".path",
            "the builtin joins a pinned namespace: an absolute path");
      }
      (type == "network" ? plan.netns : plan.userns) = path;
    } else {
      return Invalid(field, "not supported by builtin");
    }
  }
  if (!mount_ns) {
    return Invalid("linux.namespaces", "the builtin needs a mount namespace");
  }
  plan.unshare_flags |= CLONE_NEWNS;
  if (config.contains("hostname")) {
    ASSIGN_OR_RETURN(plan.hostname, StringAt(config, "hostname", "hostname"));
    if ((plan.unshare_flags & CLONE_NEWUTS) == 0 && !plan.hostname.empty()) {
      return Invalid("hostname", "set without a UTS namespace");
    }
  }

  const json& mounts = config.value("mounts", json::array());
  for (size_t i = 0; i < mounts.size(); ++i) {
    ASSIGN_OR_RETURN(MountStep step, MountFromOci(mounts[i], i, plan.rootfs));
    plan.mounts.push_back(std::move(step));
  }
  if (linux.contains("sysctl")) {
    for (const auto& [key, value] : linux["sysctl"].items()) {
      if (!value.is_string() || key.empty() ||
          key.find('/') != std::string::npos ||
          key.find("..") != std::string::npos) {
        return Invalid(absl::StrCat("linux.sysctl[", key, "]"),
                       "must be a dotted name with a string value");
      }
      MountStep step;
      step.kind = MountStep::Kind::kWrite;
      // runc's translation: every dot is a directory separator.
      step.target = absl::StrCat(plan.rootfs, "/proc/sys/",
                                 absl::StrReplaceAll(key, {{".", "/"}}));
      step.data = value.get<std::string>();
      plan.mounts.push_back(std::move(step));
    }
  }
  // runc's order: read-only paths, then masked ones.
  for (const char* list : {"readonlyPaths", "maskedPaths"}) {
    if (!linux.contains(list)) continue;
    ASSIGN_OR_RETURN(std::vector<std::string> paths,
                     Strings(linux[list], absl::StrCat("linux.", list)));
    for (const std::string& path : paths) {
      if (!CleanAbsolute(path)) {
        return Invalid(absl::StrCat("linux.", list), "paths must be absolute");
      }
      MountStep step;
      step.kind = std::string(list) == "maskedPaths"
                      ? MountStep::Kind::kMask
                      : MountStep::Kind::kReadonly;
      step.target = absl::StrCat(plan.rootfs, path);
      plan.mounts.push_back(std::move(step));
    }
  }
  if (linux.contains("seccomp")) {
    return Invalid("linux.seccomp", "not supported by builtin");
  }
  return plan;
}

absl::StatusOr<pid_t> Launch(sys::Sys& sys, const LaunchPlan& plan,
                             const LaunchCgroups& cgroups,
                             absl::Duration timeout) {
  if (plan.args.empty() || plan.rootfs.empty()) {
    return absl::InvalidArgumentError(
        "builtin pause: the plan needs args and a rootfs");
  }
  const absl::Time deadline = absl::Now() + timeout;
  ASSIGN_OR_RETURN(int cap_last_cap, CapLastCap());
  sys::UniqueFd userns, netns;
  if (!plan.userns.empty()) {
    ASSIGN_OR_RETURN(userns, sys::OpenFile(sys, plan.userns, O_RDONLY));
  }
  if (!plan.netns.empty()) {
    ASSIGN_OR_RETURN(netns, sys::OpenFile(sys, plan.netns, O_RDONLY));
  }
  ASSIGN_OR_RETURN(sys::UniqueFd devnull,
                   sys::OpenFile(sys, "/dev/null", O_RDWR));
  int pipe_fds[2];
  if (sys::SysResult r = sys.Pipe2(pipe_fds, O_CLOEXEC); !r.ok()) {
    return sys::ErrnoError(r.err, "pipe2");
  }
  sys::UniqueFd report_read(pipe_fds[0]), report_write(pipe_fds[1]);

  // Everything the children read, prepared here: they must not allocate.
  std::vector<char*> argv, envp;
  for (const std::string& a : plan.args)
    argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const std::string& e : plan.env)
    envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  auto stack = std::make_unique<char[]>(kStage2StackSize);
  ChildContext context;
  context.plan = &plan;
  context.report_fd = report_write.get();
  context.userns_fd = userns.get();
  context.netns_fd = netns.get();
  context.devnull_fd = devnull.get();
  context.procs = cgroups.procs.data();
  context.procs_count = cgroups.procs.size();
  context.stage2_stack_top = stack.get() + kStage2StackSize;  // grows down
  context.argv = argv.data();
  context.envp = envp.data();
  context.cap_last_cap = cap_last_cap;
  context.oom_score_adj = absl::StrCat(plan.oom_score_adj);

  int pidfd = -1;
  struct clone_args args = {};
  args.flags = CLONE_PIDFD;
  args.pidfd = reinterpret_cast<uint64_t>(&pidfd);
  args.exit_signal = SIGCHLD;
  if (cgroups.v2_dir >= 0) {
    // Born in the pod's cgroup: no window in which the pause is counted
    // in ours, and no cgroup.procs write for this hierarchy.
    args.flags |= CLONE_INTO_CGROUP;
    args.cgroup = static_cast<uint64_t>(cgroups.v2_dir);
  }
  sys::SysResult cloned = sys.Clone3(&args, sizeof(args), Stage1, &context);
  if (!cloned.ok()) {
    return sys::ErrnoError(cloned.err, "clone3 builtin pause launcher");
  }
  Launched launched(sys, sys::UniqueFd(pidfd));
  // Ours closed, the pipe's EOF means: stage 1 exited and stage 2 exec'd
  // or exited.
  report_write.reset();

  std::optional<Report> failure;
  for (;;) {
    absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      return absl::DeadlineExceededError(absl::StrCat(
          "builtin pause: not started within ", absl::FormatDuration(timeout)));
    }
    struct pollfd pfd = {report_read.get(), POLLIN, 0};
    int ready =
        ::poll(&pfd, 1, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1);
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) return sys::ErrnoError(errno, "poll pause launcher pipe");
    if (ready == 0) continue;
    Report report;
    sys::SysResult r = sys.Read(report_read.get(), &report, sizeof(report));
    if (!r.ok() && r.err == EINTR) continue;
    if (!r.ok()) return sys::ErrnoError(r.err, "read pause launcher pipe");
    if (r.value == 0) break;
    if (r.value != sizeof(report)) {
      return absl::InternalError("builtin pause: short report from launcher");
    }
    if (report.step == kPid) {
      launched.set_pause(report.pid);
    } else if (!failure.has_value()) {
      failure = report;
    }
  }
  ASSIGN_OR_RETURN(int stage1_exit, launched.ReapStage1());
  if (failure.has_value()) {
    return sys::ErrnoError(failure->err, "builtin pause: %s",
                           DescribeStep(plan, *failure));
  }
  if (stage1_exit != 0 || launched.pause() <= 0) {
    return absl::InternalError(
        absl::StrCat("builtin pause: launcher exited with status ", stage1_exit,
                     " without a report"));
  }
  pid_t pause = launched.pause();
  launched.Release();
  return pause;
}

}  // namespace podsandbox::oci
