#include "harness/pin_probe.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "netns/namespace_file.h"
#include "sys/real_sys.h"
#include "sys/status.h"

namespace podsandbox::harness {
namespace {

// The probe's steps, in order; the index is what it reports on failure.
constexpr const char* kStepNames[] = {
    "",  // 0: every step done
    "join the user namespace pin",
    "join the net namespace pin",
    "join the uts namespace pin",
    "join the ipc namespace pin",
    "unshare a mount namespace",
    "make its mounts private",
    "mount sysfs on /sys",
};

struct ProbeArgs {
  sys::Sys* sys;
  int ns_fds[4];  // user, net, uts, ipc; -1: not joined
  int ready_fd;   // one byte: 0, or the failed step's index
  int hold_fd;    // read until EOF or a kill
};

// Reports `step` and returns `err` as the exit code.
int Fail(const ProbeArgs& args, uint8_t step, int err) {
  // If this write fails too, the exit code still says what failed.
  args.sys->Write(args.ready_fd, &step, 1);
  return err;
}

int ProbeMain(void* arg) {
  const ProbeArgs& args = *static_cast<ProbeArgs*>(arg);
  sys::Sys& sys = *args.sys;
  // The user namespace first: the others are joined with the capabilities
  // it gives, so they must be owned by it (see the header).
  constexpr int kTypes[] = {CLONE_NEWUSER, CLONE_NEWNET, CLONE_NEWUTS,
                            CLONE_NEWIPC};
  for (uint8_t i = 0; i < 4; ++i) {
    if (args.ns_fds[i] < 0) continue;
    if (sys::SysResult r = sys.Setns(args.ns_fds[i], kTypes[i]); !r.ok()) {
      return Fail(args, i + 1, r.err);
    }
  }
  if (sys::SysResult r = sys.Unshare(CLONE_NEWNS); !r.ok()) {
    return Fail(args, 5, r.err);
  }
  // Private, so nothing mounted here propagates back to the host.
  if (sys::SysResult r =
          sys.Mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr);
      !r.ok()) {
    return Fail(args, 6, r.err);
  }
  // The flags a pause's /sys has; also no fewer than the host's /sys
  // locks, which a mount in a user namespace may not drop.
  if (sys::SysResult r =
          sys.Mount("sysfs", "/sys", "sysfs",
                    MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr);
      !r.ok()) {
    return Fail(args, 7, r.err);
  }
  const uint8_t done = 0;
  if (!sys.Write(args.ready_fd, &done, 1).ok()) return 1;
  char byte;
  while (true) {
    sys::SysResult n = sys.Read(args.hold_fd, &byte, 1);
    if (n.ok() || n.err != EINTR) return 0;
  }
}

// Waits for `pid`'s exit; its status.
absl::StatusOr<siginfo_t> Reap(sys::Sys& sys, pid_t pid) {
  siginfo_t info{};
  sys::SysResult waited;
  do {
    waited = sys.Waitid(P_PID, pid, &info, WEXITED);
  } while (!waited.ok() && waited.err == EINTR);
  if (!waited.ok())
    return sys::ErrnoError(waited.err, "wait for probe %d", pid);
  return info;
}

}  // namespace

absl::StatusOr<std::unique_ptr<PinProbe>> PinProbe::Start(const Pins& pins) {
  sys::RealSys sys;
  std::vector<sys::UniqueFd> ns;  // opened here: the probe only joins
  ProbeArgs args{&sys, {-1, -1, -1, -1}, -1, -1};
  const std::string* paths[] = {&pins.user, &pins.net, &pins.uts, &pins.ipc};
  for (int i = 0; i < 4; ++i) {
    if (paths[i]->empty()) continue;
    ASSIGN_OR_RETURN(sys::UniqueFd fd, netns::OpenNamespace(sys, *paths[i]));
    args.ns_fds[i] = fd.get();
    ns.push_back(std::move(fd));
  }
  int ready[2], hold[2];
  if (sys::SysResult r = sys.Pipe2(ready, O_CLOEXEC); !r.ok()) {
    return sys::ErrnoError(r.err, "pipe for probe");
  }
  sys::UniqueFd ready_read(ready[0]), ready_write(ready[1]);
  if (sys::SysResult r = sys.Pipe2(hold, O_CLOEXEC); !r.ok()) {
    return sys::ErrnoError(r.err, "pipe for probe");
  }
  sys::UniqueFd hold_read(hold[0]), hold_write(hold[1]);
  args.ready_fd = ready_write.get();
  args.hold_fd = hold_read.get();
  constexpr size_t kStackSize = 64 * 1024;
  auto stack = std::make_unique<char[]>(kStackSize);
  // No CLONE_VM: the probe runs on its own copy of `args` and the stack,
  // so both may go with this frame.
  sys::SysResult cloned =
      sys.Clone(ProbeMain, stack.get() + kStackSize, SIGCHLD, &args, nullptr);
  if (!cloned.ok()) return sys::ErrnoError(cloned.err, "clone probe");
  auto probe = std::unique_ptr<PinProbe>(
      new PinProbe(static_cast<pid_t>(cloned.value), std::move(hold_write)));
  // Ours closed, a probe that dies before answering gives EOF.
  ready_write = sys::UniqueFd();
  uint8_t step = 0;
  sys::SysResult n;
  do {
    n = sys.Read(ready_read.get(), &step, 1);
  } while (!n.ok() && n.err == EINTR);
  if (n.ok() && n.value == 1 && step == 0) return probe;
  // Failed: the probe has exited or is about to; reap it for its errno.
  probe->reaped_ = true;
  ASSIGN_OR_RETURN(siginfo_t info, Reap(sys, probe->pid()));
  const char* what =
      n.ok() && n.value == 1 && step < sizeof(kStepNames) / sizeof(*kStepNames)
          ? kStepNames[step]
          : "start";
  if (info.si_code == CLD_EXITED && info.si_status != 0) {
    return sys::ErrnoError(info.si_status, "probe: %s", what);
  }
  return absl::InternalError(absl::StrCat(
      "probe: ", what, ": exited with ",
      info.si_code == CLD_EXITED ? "status " : "signal ", info.si_status));
}

absl::Status PinProbe::Stop() {
  if (reaped_) return absl::OkStatus();
  sys::RealSys sys;
  if (sys::SysResult r = sys.Kill(pid_, SIGKILL); !r.ok()) {
    return sys::ErrnoError(r.err, "kill probe %d", pid_);
  }
  absl::StatusOr<siginfo_t> info = Reap(sys, pid_);
  if (!info.ok()) return info.status();
  reaped_ = true;
  hold_ = sys::UniqueFd();
  return absl::OkStatus();
}

PinProbe::~PinProbe() {
  // Nothing to report to: a failure here leaves a process the leak check
  // names.
  Stop().IgnoreError();
}

}  // namespace podsandbox::harness
