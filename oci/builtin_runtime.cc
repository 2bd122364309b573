#include "oci/builtin_runtime.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/memory/memory.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "nlohmann/json.hpp"
#include "oci/builtin_launcher.h"
#include "sys/cgroup_layout.h"
#include "sys/file.h"
#include "sys/proc.h"
#include "sys/raw_syscall.h"
#include "sys/status.h"
#include "sys/unique_fd.h"
#include "userns/proc_maps.h"

namespace podsandbox::oci {
namespace {

using nlohmann::json;

// How often Delete looks again at a cgroup whose processes are exiting.
constexpr absl::Duration kCgroupPollInterval = absl::Milliseconds(5);
// The user namespace holder's stack: it makes three syscalls.
constexpr size_t kHolderStackSize = 16 * 1024;

struct BuiltinState {
  pid_t pid = 0;  // 0 until the pause runs
  uint64_t start_time = 0;
  std::string bundle;
  std::vector<std::string> cgroups;
};

// One directory of the sandbox's cgroup, and what its hierarchy needs.
struct CgroupDir {
  std::string mount;  // the hierarchy's mount point
  std::string dir;    // mount + cgroupsPath
  bool v2 = false;
  bool cpuset = false;
  bool devices = false;
};

bool ValidId(absl::string_view id) {
  return !id.empty() && id != "." && id != ".." && !absl::StrContains(id, '/');
}

absl::StatusOr<BuiltinState> ReadState(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, sys::ReadFile(path));
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return absl::DataLossError(absl::StrCat("parse ", path, ": not JSON"));
  }
  BuiltinState state;
  state.pid = j.value("pid", 0);
  state.start_time = j.value("start_time", uint64_t{0});
  state.bundle = j.value("bundle", "");
  state.cgroups = j.value("cgroups", std::vector<std::string>{});
  return state;
}

absl::Status WriteState(sys::Sys& sys, const std::string& path,
                        const BuiltinState& state) {
  json j = {{"pid", state.pid},
            {"start_time", state.start_time},
            {"bundle", state.bundle},
            {"cgroups", state.cgroups}};
  // On tmpfs, with the processes it names: no fsync.
  return sys::WriteFileAtomically(sys, path, j.dump(), 0600,
                                  /*durable=*/false);
}

// The hierarchies of the host's layout and the sandbox's directory in each.
absl::StatusOr<std::vector<CgroupDir>> SandboxCgroupDirs(
    absl::string_view path) {
  ASSIGN_OR_RETURN(sys::CgroupLayout layout, sys::DetectCgroupLayout());
  std::vector<CgroupDir> out;
  if (layout != sys::CgroupLayout::kV2) {
    ASSIGN_OR_RETURN(std::string mountinfo,
                     sys::ReadFile("/proc/self/mountinfo"));
    for (const std::string& mount : sys::CgroupV1MountPoints(mountinfo)) {
      CgroupDir d;
      d.mount = mount;
      d.dir = absl::StrCat(mount, path);
      // A hierarchy's mount point names its controllers ("cpu,cpuacct").
      std::vector<absl::string_view> names = absl::StrSplit(
          absl::string_view(mount).substr(mount.rfind('/') + 1), ',');
      for (absl::string_view name : names) {
        d.cpuset |= name == "cpuset";
        d.devices |= name == "devices";
      }
      out.push_back(std::move(d));
    }
  }
  if (layout != sys::CgroupLayout::kV1) {
    CgroupDir d;
    d.mount = layout == sys::CgroupLayout::kV2
                  ? std::string(sys::kCgroupRoot)
                  : absl::StrCat(sys::kCgroupRoot, "/unified");
    d.dir = absl::StrCat(d.mount, path);
    d.v2 = true;
    out.push_back(std::move(d));
  }
  return out;
}

absl::Status WriteCgroupFile(sys::Sys& sys, const std::string& path,
                             absl::string_view value) {
  ASSIGN_OR_RETURN(sys::UniqueFd fd, sys::OpenFile(sys, path, O_WRONLY));
  return sys::Annotate(sys::WriteAll(sys, fd.get(), value),
                       absl::StrCat("write ", path));
}

// mkdir every level of `d` below its mount point. A new v1 cpuset level
// starts with no cpus and mems, and joining it fails (ENOSPC): copy the
// parent's, as runc does.
absl::Status MakeCgroupDir(sys::Sys& sys, const CgroupDir& d) {
  if (!d.cpuset) return sys::MakeDirs(sys, d.dir, 0755);
  std::string parent = d.mount;
  for (absl::string_view part :
       absl::StrSplit(absl::string_view(d.dir).substr(d.mount.size()), '/',
                      absl::SkipEmpty())) {
    std::string level = absl::StrCat(parent, "/", part);
    if (sys::SysResult r = sys.Mkdir(level.c_str(), 0755);
        !r.ok() && r.err != EEXIST) {
      return sys::ErrnoError(r.err, "mkdir %s", level);
    }
    for (const char* file : {"cpuset.cpus", "cpuset.mems"}) {
      ASSIGN_OR_RETURN(std::string mine,
                       sys::ReadFile(absl::StrCat(level, "/", file)));
      if (!absl::StripAsciiWhitespace(mine).empty()) continue;
      ASSIGN_OR_RETURN(std::string theirs,
                       sys::ReadFile(absl::StrCat(parent, "/", file)));
      RETURN_IF_ERROR(
          WriteCgroupFile(sys, absl::StrCat(level, "/", file), theirs));
    }
    parent = std::move(level);
  }
  return absl::OkStatus();
}

// SIGKILLs every process listed in `dir`'s cgroup.procs.
absl::Status KillCgroup(sys::Sys& sys, const std::string& dir) {
  absl::StatusOr<std::string> procs =
      sys::ReadFile(absl::StrCat(dir, "/cgroup.procs"));
  if (absl::IsNotFound(procs.status())) return absl::OkStatus();
  RETURN_IF_ERROR(procs.status());
  for (absl::string_view line :
       absl::StrSplit(*procs, '\n', absl::SkipEmpty())) {
    pid_t pid = 0;
    if (!absl::SimpleAtoi(line, &pid) || pid <= 0) continue;
    if (sys::SysResult r = sys.Kill(pid, SIGKILL); !r.ok() && r.err != ESRCH) {
      return sys::ErrnoError(r.err, "kill pid %d of cgroup %s", pid, dir);
    }
  }
  return absl::OkStatus();
}

// Removes the sandbox's directory `dir` (not the parents: they may be
// shared, as runc leaves them), killing what is still in it. Idempotent.
absl::Status RemoveCgroupDir(sys::Sys& sys, const std::string& dir,
                             absl::Time deadline) {
  for (;;) {
    sys::SysResult r = sys.Rmdir(dir.c_str());
    if (r.ok() || r.err == ENOENT) return absl::OkStatus();
    if (r.err != EBUSY) return sys::ErrnoError(r.err, "rmdir %s", dir);
    // Processes exit asynchronously after SIGKILL; the directory empties
    // once they have.
    RETURN_IF_ERROR(KillCgroup(sys, dir));
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("rmdir ", dir, ": processes still in it"));
    }
    absl::SleepFor(kCgroupPollInterval);
  }
}

// A pidfd for the pause of `state` if it still is that process (its start
// time matches); an empty fd when it is gone.
absl::StatusOr<sys::UniqueFd> OpenPause(sys::Sys& sys,
                                        const BuiltinState& state) {
  if (state.pid <= 0) return sys::UniqueFd();
  sys::SysResult r = sys.PidfdOpen(state.pid, 0);
  if (!r.ok() && r.err == ESRCH) return sys::UniqueFd();
  if (!r.ok()) return sys::ErrnoError(r.err, "pidfd_open %d", state.pid);
  sys::UniqueFd fd(static_cast<int>(r.value));
  // Read after pidfd_open pinned the process: a match means the pidfd is
  // the pause, not a newcomer with its pid.
  absl::StatusOr<sys::ProcStat> stat = sys::ReadProcStat(state.pid);
  if (absl::IsNotFound(stat.status())) return sys::UniqueFd();
  RETURN_IF_ERROR(stat.status());
  if (stat->start_time != state.start_time || stat->state == 'Z') {
    return sys::UniqueFd();
  }
  return fd;
}

// A child cloned into a new user namespace (CLONE_NEWUSER in clone(2): the
// daemon is multithreaded, and unshare would be refused), which holds it
// while we write its maps and until the pause has joined it. Created by
// host root, as runc's is. Like netns/'s helper it shares our memory and
// makes raw syscalls only; it blocks until the hold pipe closes.
class UsernsHolder {
 public:
  static absl::StatusOr<std::unique_ptr<UsernsHolder>> Start(
      sys::Sys& sys, const userns::IdMappings& maps) {
    int fds[2];
    if (sys::SysResult r = sys.Pipe2(fds, O_CLOEXEC); !r.ok()) {
      return sys::ErrnoError(r.err, "pipe2");
    }
    sys::UniqueFd hold_read(fds[0]), hold_write(fds[1]);
    auto stack = std::make_unique<char[]>(kHolderStackSize);
    int pidfd = -1;
    sys::SysResult cloned = sys.Clone(
        Hold, stack.get() + kHolderStackSize,
        CLONE_NEWUSER | CLONE_VM | CLONE_PIDFD | SIGCHLD,
        reinterpret_cast<void*>(static_cast<intptr_t>(hold_read.get())),
        &pidfd);
    if (!cloned.ok()) {
      return sys::ErrnoError(cloned.err, "clone user namespace holder");
    }
    auto holder = absl::WrapUnique(new UsernsHolder(
        sys, std::move(stack), static_cast<pid_t>(cloned.value),
        sys::UniqueFd(pidfd), std::move(hold_write)));
    RETURN_IF_ERROR(userns::WriteProcessMaps(sys, holder->pid_, maps));
    return holder;
  }

  ~UsernsHolder() {
    hold_.reset();
    (void)sys_.PidfdSendSignal(pidfd_.get(), SIGKILL);
    for (int attempt = 0; attempt < 3; ++attempt) {
      siginfo_t info;
      if (sys_.Waitid(P_PIDFD, static_cast<id_t>(pidfd_.get()), &info, WEXITED)
              .ok()) {
        return;
      }
    }
    // Still unreaped: its stack must outlive it.
    (void)stack_.release();
  }

  std::string path() const { return absl::StrCat("/proc/", pid_, "/ns/user"); }

 private:
  UsernsHolder(sys::Sys& sys, std::unique_ptr<char[]> stack, pid_t pid,
               sys::UniqueFd pidfd, sys::UniqueFd hold)
      : sys_(sys),
        stack_(std::move(stack)),
        pid_(pid),
        pidfd_(std::move(pidfd)),
        hold_(std::move(hold)) {}

  // It got a copy of our fd table: keeps only the read end, so our close
  // of the write end (or our death) reaches it as EOF.
  static int Hold(void* arg) {
    const long fd = reinterpret_cast<intptr_t>(arg);
    if (fd > 0) (void)sys::RawSyscall3(SYS_close_range, 0, fd - 1, 0);
    (void)sys::RawSyscall3(SYS_close_range, fd + 1, ~0U, 0);
    char byte;
    (void)sys::RawSyscall3(SYS_read, fd, reinterpret_cast<long>(&byte), 1);
    return 0;
  }

  sys::Sys& sys_;
  std::unique_ptr<char[]> stack_;
  pid_t pid_;
  sys::UniqueFd pidfd_;
  sys::UniqueFd hold_;
};

}  // namespace

BuiltinRuntime::BuiltinRuntime(sys::Sys& sys, const RuntimeHandler& handler)
    : sys_(sys), handler_(handler) {}

std::string BuiltinRuntime::StatePath(absl::string_view id) const {
  return absl::StrCat(handler_.root, "/", id, ".json");
}

absl::Status BuiltinRuntime::CheckSupported(const TaskSpec& spec) {
  return CheckHandlerSupports(handler_, spec);
}

absl::Status BuiltinRuntime::Create(const CreateRequest& request) {
  const std::string& id = request.id;
  if (request.stdout_fd >= 0 || request.stderr_fd >= 0) {
    return absl::UnimplementedError(absl::StrCat(
        "runtime handler ", handler_.name, " (builtin): create ", id,
        ": stdout_fd/stderr_fd: the builtin launcher runs a pause only"));
  }
  if (!ValidId(id)) {
    return absl::InvalidArgumentError(
        absl::StrCat("builtin create: bad container id \"", id, "\""));
  }
  const std::string state_path = StatePath(id);
  if (absl::StatusOr<std::string> existing = sys::ReadFile(state_path);
      existing.ok() || !absl::IsNotFound(existing.status())) {
    return existing.ok() ? absl::AlreadyExistsError(absl::StrCat(
                               "builtin create ", id, ": already exists"))
                         : existing.status();
  }
  const std::string config_path = absl::StrCat(request.bundle, "/config.json");
  ASSIGN_OR_RETURN(std::string text, sys::ReadFile(config_path));
  json config = json::parse(text, nullptr, false);
  if (config.is_discarded()) {
    return absl::InvalidArgumentError(
        absl::StrCat("parse ", config_path, ": not JSON"));
  }
  ASSIGN_OR_RETURN(LaunchPlan plan, PlanFromOciSpec(config));
  std::string cgroups_path =
      config.value("linux", json::object()).value("cgroupsPath", "");
  if (cgroups_path.empty() || cgroups_path[0] != '/' ||
      absl::StrContains(cgroups_path, "/../") ||
      absl::EndsWith(cgroups_path, "/..")) {
    return absl::InvalidArgumentError(
        "config.json linux.cgroupsPath: must be absolute, without ..");
  }
  ASSIGN_OR_RETURN(std::vector<CgroupDir> dirs,
                   SandboxCgroupDirs(cgroups_path));
  const absl::Time deadline = absl::Now() + handler_.timeout;

  RETURN_IF_ERROR(sys::MakeDirs(sys_, handler_.root, 0711));
  BuiltinState state;
  state.bundle = request.bundle;
  for (const CgroupDir& d : dirs) state.cgroups.push_back(d.dir);
  // Before the first directory: Delete (rollback, recovery's orphan pass)
  // finds every directory from here on.
  RETURN_IF_ERROR(WriteState(sys_, state_path, state));
  absl::Cleanup remove_state = [&] {
    (void)sys::RemoveFileIfExists(sys_, state_path);
  };
  std::vector<std::string> made;
  absl::Cleanup remove_dirs = [&] {
    for (auto it = made.rbegin(); it != made.rend(); ++it) {
      // Best effort: the error being returned is the one that matters, and
      // Delete retries from the state file.
      (void)RemoveCgroupDir(sys_, *it, deadline);
    }
  };
  LaunchCgroups launch;
  std::vector<sys::UniqueFd> fds;
  for (const CgroupDir& d : dirs) {
    // Before the mkdir: a cpuset level may exist while its files are not
    // written yet; removal of one never made is a no-op.
    made.push_back(d.dir);
    RETURN_IF_ERROR(MakeCgroupDir(sys_, d));
    if (d.devices) {
      // The device rule of config.json (deny everything), as runc writes it.
      RETURN_IF_ERROR(
          WriteCgroupFile(sys_, absl::StrCat(d.dir, "/devices.deny"), "a"));
    }
    if (d.v2) {
      ASSIGN_OR_RETURN(sys::UniqueFd fd,
                       sys::OpenFile(sys_, d.dir, O_RDONLY | O_DIRECTORY));
      launch.v2_dir = fd.get();
      fds.push_back(std::move(fd));
    } else {
      ASSIGN_OR_RETURN(
          sys::UniqueFd fd,
          sys::OpenFile(sys_, absl::StrCat(d.dir, "/cgroup.procs"), O_WRONLY));
      launch.procs.push_back(fd.get());
      fds.push_back(std::move(fd));
    }
  }

  std::unique_ptr<UsernsHolder> new_userns;
  if (plan.new_userns.has_value()) {
    ASSIGN_OR_RETURN(new_userns, UsernsHolder::Start(sys_, *plan.new_userns));
    plan.userns = new_userns->path();
  }
  ASSIGN_OR_RETURN(pid_t pid,
                   Launch(sys_, plan, launch, deadline - absl::Now()));
  // The pause holds the namespace from here on.
  new_userns.reset();
  absl::Cleanup kill_pause = [&] {
    // Our unreaped child: its pid cannot name anything else yet.
    (void)sys_.Kill(pid, SIGKILL);
    siginfo_t info;
    (void)sys_.Waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED);
  };
  ASSIGN_OR_RETURN(sys::ProcStat stat, sys::ReadProcStat(pid));
  state.pid = pid;
  state.start_time = stat.start_time;
  RETURN_IF_ERROR(WriteState(sys_, state_path, state));
  RETURN_IF_ERROR(sys::WriteFileAtomically(sys_, request.pid_file,
                                           absl::StrCat(pid), 0644,
                                           /*durable=*/false));
  std::move(kill_pause).Cancel();
  std::move(remove_dirs).Cancel();
  std::move(remove_state).Cancel();
  return absl::OkStatus();
}

absl::Status BuiltinRuntime::Start(absl::string_view id) {
  return ReadState(StatePath(id)).status();
}

absl::StatusOr<RuntimeState> BuiltinRuntime::State(absl::string_view id) {
  ASSIGN_OR_RETURN(BuiltinState state, ReadState(StatePath(id)));
  ASSIGN_OR_RETURN(sys::UniqueFd pause, OpenPause(sys_, state));
  RuntimeState out;
  out.bundle = state.bundle;
  if (pause.get() >= 0) {
    out.status = "running";
    out.pid = state.pid;
  } else {
    out.status = state.pid > 0 ? "stopped" : "creating";
  }
  return out;
}

absl::Status BuiltinRuntime::Kill(absl::string_view id, int signal) {
  ASSIGN_OR_RETURN(BuiltinState state, ReadState(StatePath(id)));
  ASSIGN_OR_RETURN(sys::UniqueFd pause, OpenPause(sys_, state));
  if (pause.get() < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("builtin kill ", id, ": not running"));
  }
  if (sys::SysResult r = sys_.PidfdSendSignal(pause.get(), signal);
      !r.ok() && r.err != ESRCH) {
    return sys::ErrnoError(r.err, "builtin kill %s (pid %d)", id, state.pid);
  }
  return absl::OkStatus();
}

absl::Status BuiltinRuntime::Delete(absl::string_view id) {
  const std::string state_path = StatePath(id);
  ASSIGN_OR_RETURN(BuiltinState state, ReadState(state_path));
  const absl::Time deadline = absl::Now() + handler_.timeout;
  ASSIGN_OR_RETURN(sys::UniqueFd pause, OpenPause(sys_, state));
  if (pause.get() >= 0) {
    if (sys::SysResult r = sys_.PidfdSendSignal(pause.get(), SIGKILL);
        !r.ok() && r.err != ESRCH) {
      return sys::ErrnoError(r.err, "builtin delete %s: kill pid %d", id,
                             state.pid);
    }
    // A pidfd polls readable once the process has exited, reaped or not,
    // and whoever its parent is (after a restart it may not be us).
    for (;;) {
      int left =
          static_cast<int>(absl::ToInt64Milliseconds(deadline - absl::Now()));
      if (left <= 0) {
        return absl::DeadlineExceededError(absl::StrCat(
            "builtin delete ", id, ": pid ", state.pid, " outlived SIGKILL"));
      }
      struct pollfd pfd = {pause.get(), POLLIN, 0};
      int ready = ::poll(&pfd, 1, left);
      if (ready > 0) break;
      if (ready < 0 && errno != EINTR) {
        return sys::ErrnoError(errno, "poll pidfd of pid %d", state.pid);
      }
    }
  }
  for (auto it = state.cgroups.rbegin(); it != state.cgroups.rend(); ++it) {
    RETURN_IF_ERROR(RemoveCgroupDir(sys_, *it, deadline));
  }
  return sys::RemoveFileIfExists(sys_, state_path);
}

absl::StatusOr<ExecResult> BuiltinRuntime::Exec(const ExecRequest& request) {
  return absl::UnimplementedError(
      absl::StrCat("runtime handler ", handler_.name, " (builtin): exec ",
                   request.id, ": the builtin launcher runs a pause only"));
}

absl::Status BuiltinRuntime::Update(absl::string_view id,
                                    const std::string& /*resources_json*/) {
  return absl::UnimplementedError(
      absl::StrCat("runtime handler ", handler_.name, " (builtin): update ", id,
                   ": the builtin launcher runs a pause only"));
}

}  // namespace podsandbox::oci
