#include "netns/namespaces.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <thread>

#include "absl/cleanup/cleanup.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "netns/pin.h"
#include "sys/file.h"
#include "sys/raw_syscall.h"
#include "sys/status.h"
#include "sys/unique_fd.h"
#include "userns/proc_maps.h"

namespace podsandbox::netns {
namespace {

// The helper child's stack. It makes one syscall, so a page would do.
constexpr size_t kHelperStackSize = 16 * 1024;

// The helper child's whole life: block until the hold pipe closes (or a
// SIGKILL comes), keeping its namespaces alive meanwhile. It shares our
// memory (CLONE_VM) but has no thread control block of its own, so it makes
// only raw syscalls; the clone wrapper then exits it with a raw syscall
// too. It got a copy of our whole fd table; it keeps only the read end, so
// our close of the write end (or our death) reaches it as EOF, and so it
// holds nothing else of ours open meanwhile.
int HoldNamespaces(void* hold_fd) {
  const long fd = reinterpret_cast<intptr_t>(hold_fd);
  if (fd > 0) (void)sys::RawSyscall3(SYS_close_range, 0, fd - 1, 0);
  (void)sys::RawSyscall3(SYS_close_range, fd + 1, ~0U, 0);
  char byte;
  (void)sys::RawSyscall3(SYS_read, fd, reinterpret_cast<long>(&byte), 1);
  return 0;
}

constexpr size_t kMaxHostname = 64;  // HOST_NAME_MAX

// Sets the hostname of the UTS namespace pinned at `pin`. On a thread of
// its own: setns(2) moves only the calling thread, and this one then ends
// instead of having to find its way back. /proc/sys/kernel/hostname is the
// writer's UTS namespace's (proc(5)). We are host root, so we hold
// CAP_SYS_ADMIN over the pod's user namespace, which owns the UTS one.
absl::Status SetHostname(sys::Sys& sys, const std::string& pin,
                         const std::string& hostname) {
  ASSIGN_OR_RETURN(sys::UniqueFd uts, sys::OpenFile(sys, pin, O_RDONLY));
  absl::Status status;
  std::thread thread([&] {
    if (sys::SysResult r = sys.Setns(uts.get(), CLONE_NEWUTS); !r.ok()) {
      status = sys::ErrnoError(r.err, "setns %s", pin);
      return;
    }
    absl::StatusOr<sys::UniqueFd> file =
        sys::OpenFile(sys, "/proc/sys/kernel/hostname", O_WRONLY);
    status =
        file.ok() ? sys::WriteAll(sys, file->get(), hostname) : file.status();
    status = sys::Annotate(status, absl::StrCat("set hostname in ", pin));
  });
  thread.join();
  return status;
}

absl::Status ValidateName(absl::string_view name) {
  if (name.empty() || name == "." || name == ".." ||
      name.find('/') != absl::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        "namespace name \"", name, "\": must be a non-empty file name"));
  }
  return absl::OkStatus();
}

// A live helper child, already inside its new namespaces, and the means to
// end it.
class Helper {
 public:
  Helper(sys::Sys& sys, std::unique_ptr<char[]> stack, pid_t pid,
         sys::UniqueFd pidfd, sys::UniqueFd hold)
      : sys_(sys),
        stack_(std::move(stack)),
        pid_(pid),
        pidfd_(std::move(pidfd)),
        hold_(std::move(hold)) {}

  ~Helper() {
    // Closing the hold pipe alone ends the helper; the kill makes it
    // prompt. Reaping is retried: the stack must not be freed under it.
    hold_.reset();
    (void)sys_.PidfdSendSignal(pidfd_.get(), SIGKILL);
    for (int attempt = 0; attempt < 3; ++attempt) {
      siginfo_t info;
      if (sys_.Waitid(P_PIDFD, static_cast<id_t>(pidfd_.get()), &info, WEXITED)
              .ok()) {
        return;
      }
    }
    // Still unreaped: its stack must outlive it, so leak the stack rather
    // than free memory a live task may use.
    (void)stack_.release();
  }

  pid_t pid() const { return pid_; }

  // The pins name the helper's namespaces only if it was alive while they
  // were made; a pidfd cannot be fooled by pid reuse.
  absl::Status CheckAlive() {
    if (sys::SysResult r = sys_.PidfdSendSignal(pidfd_.get(), 0); !r.ok()) {
      return sys::ErrnoError(
          r.err, "namespace helper %d died while being pinned", pid_);
    }
    return absl::OkStatus();
  }

 private:
  sys::Sys& sys_;
  std::unique_ptr<char[]> stack_;
  pid_t pid_;
  sys::UniqueFd pidfd_;
  sys::UniqueFd hold_;
};

// Clones the helper into new namespaces (`flags`: CLONE_NEWNET, perhaps
// with CLONE_NEWUSER). The kernel creates them inside clone(2), the user
// namespace first, so the netns is owned by it. CLONE_VM spares copying our
// page tables, and the kernel allows CLONE_NEWUSER with it (the refusal of
// user namespaces to multithreaded callers applies to unshare and setns).
//
// Cloned by this thread as it is (euid 0): a user namespace is owned by its
// creator's euid, and its owner's euid gets every capability in it from
// outside (user_namespaces(7)), so any other owner would hand the pod's
// namespaces to every host process running as that uid. docs/design.md,
// "User namespace ownership", has the trade-off (per-user ucounts are
// charged to root).
absl::StatusOr<std::unique_ptr<Helper>> StartHelper(sys::Sys& sys, int flags) {
  int hold_fds[2];
  if (sys::SysResult r = sys.Pipe2(hold_fds, O_CLOEXEC); !r.ok()) {
    return sys::ErrnoError(r.err, "pipe2");
  }
  sys::UniqueFd hold_read(hold_fds[0]), hold_write(hold_fds[1]);
  auto stack = std::make_unique<char[]>(kHelperStackSize);
  void* stack_top = stack.get() + kHelperStackSize;  // stacks grow down
  void* arg = reinterpret_cast<void*>(static_cast<intptr_t>(hold_read.get()));
  int clone_flags = flags | CLONE_VM | CLONE_PIDFD | SIGCHLD;
  int pidfd = -1;
  sys::SysResult cloned =
      sys.Clone(HoldNamespaces, stack_top, clone_flags, arg, &pidfd);
  if (!cloned.ok()) {
    return sys::ErrnoError(cloned.err, "clone namespace helper");
  }
  // The helper has its own copy of the read end (CLONE_VM does not share
  // the fd table), so ours can go.
  return std::make_unique<Helper>(sys, std::move(stack),
                                  static_cast<pid_t>(cloned.value),
                                  sys::UniqueFd(pidfd), std::move(hold_write));
}

}  // namespace

NamespaceFactory::NamespaceFactory(sys::Sys& sys, std::string pin_root)
    : sys_(sys),
      netns_dir_(absl::StrCat(pin_root, "/netns")),
      userns_dir_(absl::StrCat(pin_root, "/userns")),
      uts_dir_(absl::StrCat(pin_root, "/uts")),
      ipc_dir_(absl::StrCat(pin_root, "/ipc")) {}

absl::Status UnmountPinDirs(sys::Sys& sys, absl::string_view pin_root) {
  for (absl::string_view dir : {"/netns", "/userns", "/uts", "/ipc"}) {
    std::string path = absl::StrCat(pin_root, dir);
    sys::SysResult r = sys.Umount2(path.c_str(), MNT_DETACH);
    // EINVAL: not a mount point; ENOENT: never made. Both: nothing to undo.
    if (!r.ok() && r.err != EINVAL && r.err != ENOENT) {
      return sys::ErrnoError(r.err, "umount %s", path);
    }
  }
  return absl::OkStatus();
}

absl::Status NamespaceFactory::Init() {
  RETURN_IF_ERROR(MakeSharedPinDir(sys_, netns_dir_));
  return MakeSharedPinDir(sys_, userns_dir_);
}

PinnedNamespaces NamespaceFactory::PathsFor(absl::string_view name,
                                            bool with_userns) const {
  PinnedNamespaces paths;
  paths.netns = absl::StrCat(netns_dir_, "/", name);
  if (with_userns) paths.userns = absl::StrCat(userns_dir_, "/", name);
  return paths;
}

absl::StatusOr<PinnedNamespaces> NamespaceFactory::Create(
    absl::string_view name, const userns::IdMappings* mappings) {
  return Create(name, mappings, ExtraNamespaces());
}

absl::StatusOr<PinnedNamespaces> NamespaceFactory::Create(
    absl::string_view name, const userns::IdMappings* mappings,
    const ExtraNamespaces& extra) {
  RETURN_IF_ERROR(ValidateName(name));
  if (!extra.hostname.empty() &&
      (!extra.uts_and_ipc || extra.hostname.size() > kMaxHostname)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "hostname \"", extra.hostname,
        "\": needs a UTS namespace of its own and at most 64 bytes"));
  }
  PinnedNamespaces paths = PathsFor(name, mappings != nullptr);
  int flags = CLONE_NEWNET;
  if (mappings != nullptr) flags |= CLONE_NEWUSER;
  if (extra.uts_and_ipc) {
    // In the same clone as the user namespace, so it owns them too.
    flags |= CLONE_NEWUTS | CLONE_NEWIPC;
    paths.uts = absl::StrCat(uts_dir_, "/", name);
    paths.ipc = absl::StrCat(ipc_dir_, "/", name);
    RETURN_IF_ERROR(MakeSharedPinDir(sys_, uts_dir_));
    RETURN_IF_ERROR(MakeSharedPinDir(sys_, ipc_dir_));
  }
  ASSIGN_OR_RETURN(std::unique_ptr<Helper> helper, StartHelper(sys_, flags));
  if (mappings != nullptr) {
    RETURN_IF_ERROR(userns::WriteProcessMaps(sys_, helper->pid(), *mappings));
  }
  std::string proc_ns = absl::StrCat("/proc/", helper->pid(), "/ns/");
  RETURN_IF_ERROR(Pin(sys_, proc_ns + "net", paths.netns));
  absl::Cleanup unpin_netns = [&] { (void)Unpin(sys_, paths.netns); };
  if (mappings != nullptr) {
    RETURN_IF_ERROR(Pin(sys_, proc_ns + "user", paths.userns));
  }
  absl::Cleanup unpin_userns = [&] {
    if (!paths.userns.empty()) (void)Unpin(sys_, paths.userns);
  };
  if (extra.uts_and_ipc) {
    RETURN_IF_ERROR(Pin(sys_, proc_ns + "uts", paths.uts));
  }
  absl::Cleanup unpin_uts = [&] {
    if (!paths.uts.empty()) (void)Unpin(sys_, paths.uts);
  };
  if (extra.uts_and_ipc) {
    RETURN_IF_ERROR(Pin(sys_, proc_ns + "ipc", paths.ipc));
  }
  absl::Cleanup unpin_ipc = [&] {
    if (!paths.ipc.empty()) (void)Unpin(sys_, paths.ipc);
  };
  RETURN_IF_ERROR(helper->CheckAlive());
  if (!extra.hostname.empty()) {
    RETURN_IF_ERROR(SetHostname(sys_, paths.uts, extra.hostname));
  }
  std::move(unpin_netns).Cancel();
  std::move(unpin_userns).Cancel();
  std::move(unpin_uts).Cancel();
  std::move(unpin_ipc).Cancel();
  return paths;
}

absl::Status NamespaceFactory::Remove(absl::string_view name) {
  RETURN_IF_ERROR(ValidateName(name));
  PinnedNamespaces paths = PathsFor(name, /*with_userns=*/true);
  absl::Status first;
  for (const std::string& pin :
       {paths.netns, paths.userns, absl::StrCat(uts_dir_, "/", name),
        absl::StrCat(ipc_dir_, "/", name)}) {
    absl::Status s = Unpin(sys_, pin);
    if (first.ok()) first = s;
  }
  return first;
}

absl::StatusOr<std::vector<std::string>> NamespaceFactory::ListNames() const {
  absl::flat_hash_set<std::string> names;
  for (const std::string& dir : {netns_dir_, userns_dir_, uts_dir_, ipc_dir_}) {
    ASSIGN_OR_RETURN(std::vector<std::string> pins, sys::ListDir(dir));
    for (std::string& pin : pins) {
      if (pin[0] != '.') names.insert(std::move(pin));
    }
  }
  std::vector<std::string> sorted(names.begin(), names.end());
  std::sort(sorted.begin(), sorted.end());
  return sorted;
}

}  // namespace podsandbox::netns
