#include "sys/testing/faulty_sys.h"

namespace podsandbox::sys {

absl::string_view SysCallName(SysCall call) {
  static constexpr absl::string_view kNames[kSysCallCount] = {
      "Open",         "Read",       "Write",
      "Fsync",        "Fchown",     "Flock",
      "Mkdir",        "Unlink",     "Rmdir",
      "Rename",       "Mount",      "Umount2",
      "Unshare",      "Setns",      "Setresuid",
      "Clone",        "PosixSpawn", "Pipe2",
      "Kill",         "PidfdOpen",  "PidfdSendSignal",
      "Waitid",       "Ioctl",      "Prctl",
      "Openat",       "Unlinkat",   "Openat2",
      "Mkdirat",      "Mknodat",    "Fchownat",
      "Fchmodat",     "Linkat",     "Symlinkat",
      "Fsetxattr",    "Utimensat",  "OpenTree",
      "MountSetattr", "MoveMount",  "Clone3",
      "Socket",       "Connect",    "Setsockopt",
      "Sendmsg",      "Recvmsg"};
  return kNames[static_cast<int>(call)];
}

FaultySys::FaultySys(Sys& real) : real_(real) { Reset(); }

void FaultySys::FailNth(SysCall call, int nth, int err) {
  int i = static_cast<int>(call);
  fail_errno_[i].store(err);
  fail_at_[i].store(counts_[i].load() + nth);
}

void FaultySys::FailAlways(SysCall call, int err) {
  int i = static_cast<int>(call);
  fail_errno_[i].store(err);
  fail_at_[i].store(kAlways);
}

void FaultySys::Reset() {
  for (int i = 0; i < kSysCallCount; ++i) {
    counts_[i].store(0);
    fail_at_[i].store(kNever);
    fail_errno_[i].store(0);
    fired_[i].store(0);
  }
}

int FaultySys::count(SysCall call) const {
  return counts_[static_cast<int>(call)].load();
}

int FaultySys::fired(SysCall call) const {
  return fired_[static_cast<int>(call)].load();
}

std::optional<SysResult> FaultySys::Intercept(SysCall call) {
  int i = static_cast<int>(call);
  int n = counts_[i].fetch_add(1) + 1;
  int fail_at = fail_at_[i].load();
  if (fail_at == kAlways || (fail_at != kNever && n == fail_at)) {
    fired_[i].fetch_add(1);
    return SysResult{-1, fail_errno_[i].load()};
  }
  return std::nullopt;
}

SysResult FaultySys::Open(const char* path, int flags, mode_t mode) {
  if (auto fault = Intercept(SysCall::kOpen)) return *fault;
  return real_.Open(path, flags, mode);
}

SysResult FaultySys::Read(int fd, void* buf, size_t count) {
  if (auto fault = Intercept(SysCall::kRead)) return *fault;
  return real_.Read(fd, buf, count);
}

SysResult FaultySys::Write(int fd, const void* buf, size_t count) {
  if (auto fault = Intercept(SysCall::kWrite)) return *fault;
  return real_.Write(fd, buf, count);
}

SysResult FaultySys::Fsync(int fd) {
  if (auto fault = Intercept(SysCall::kFsync)) return *fault;
  return real_.Fsync(fd);
}

SysResult FaultySys::Fchown(int fd, uid_t owner, gid_t group) {
  if (auto fault = Intercept(SysCall::kFchown)) return *fault;
  return real_.Fchown(fd, owner, group);
}

SysResult FaultySys::Flock(int fd, int operation) {
  if (auto fault = Intercept(SysCall::kFlock)) return *fault;
  return real_.Flock(fd, operation);
}

SysResult FaultySys::Mkdir(const char* path, mode_t mode) {
  if (auto fault = Intercept(SysCall::kMkdir)) return *fault;
  return real_.Mkdir(path, mode);
}

SysResult FaultySys::Unlink(const char* path) {
  if (auto fault = Intercept(SysCall::kUnlink)) return *fault;
  return real_.Unlink(path);
}

SysResult FaultySys::Rmdir(const char* path) {
  if (auto fault = Intercept(SysCall::kRmdir)) return *fault;
  return real_.Rmdir(path);
}

SysResult FaultySys::Rename(const char* from, const char* to) {
  if (auto fault = Intercept(SysCall::kRename)) return *fault;
  return real_.Rename(from, to);
}

SysResult FaultySys::Mount(const char* source, const char* target,
                           const char* fstype, unsigned long flags,
                           const void* data) {
  if (auto fault = Intercept(SysCall::kMount)) return *fault;
  return real_.Mount(source, target, fstype, flags, data);
}

SysResult FaultySys::Umount2(const char* target, int flags) {
  if (auto fault = Intercept(SysCall::kUmount2)) return *fault;
  return real_.Umount2(target, flags);
}

SysResult FaultySys::Unshare(int flags) {
  if (auto fault = Intercept(SysCall::kUnshare)) return *fault;
  return real_.Unshare(flags);
}

SysResult FaultySys::Setns(int fd, int nstype) {
  if (auto fault = Intercept(SysCall::kSetns)) return *fault;
  return real_.Setns(fd, nstype);
}

SysResult FaultySys::Setresuid(uid_t ruid, uid_t euid, uid_t suid) {
  if (auto fault = Intercept(SysCall::kSetresuid)) return *fault;
  return real_.Setresuid(ruid, euid, suid);
}

SysResult FaultySys::Clone(int (*fn)(void*), void* stack_top, int flags,
                           void* arg, int* pidfd) {
  if (auto fault = Intercept(SysCall::kClone)) return *fault;
  return real_.Clone(fn, stack_top, flags, arg, pidfd);
}

SysResult FaultySys::Clone3(struct clone_args* args, size_t size,
                            int (*fn)(void*), void* arg) {
  if (auto fault = Intercept(SysCall::kClone3)) return *fault;
  return real_.Clone3(args, size, fn, arg);
}

SysResult FaultySys::PosixSpawn(const char* path,
                                const posix_spawn_file_actions_t* actions,
                                const posix_spawnattr_t* attr,
                                char* const argv[], char* const envp[]) {
  if (auto fault = Intercept(SysCall::kPosixSpawn)) return *fault;
  return real_.PosixSpawn(path, actions, attr, argv, envp);
}

SysResult FaultySys::Pipe2(int fds[2], int flags) {
  if (auto fault = Intercept(SysCall::kPipe2)) return *fault;
  return real_.Pipe2(fds, flags);
}

SysResult FaultySys::Kill(pid_t pid, int sig) {
  if (auto fault = Intercept(SysCall::kKill)) return *fault;
  return real_.Kill(pid, sig);
}

SysResult FaultySys::PidfdOpen(pid_t pid, unsigned int flags) {
  if (auto fault = Intercept(SysCall::kPidfdOpen)) return *fault;
  return real_.PidfdOpen(pid, flags);
}

SysResult FaultySys::PidfdSendSignal(int pidfd, int sig) {
  if (auto fault = Intercept(SysCall::kPidfdSendSignal)) return *fault;
  return real_.PidfdSendSignal(pidfd, sig);
}

SysResult FaultySys::Waitid(idtype_t idtype, id_t id, siginfo_t* info,
                            int options) {
  if (auto fault = Intercept(SysCall::kWaitid)) return *fault;
  return real_.Waitid(idtype, id, info, options);
}

SysResult FaultySys::Ioctl(int fd, unsigned long request) {
  if (auto fault = Intercept(SysCall::kIoctl)) return *fault;
  return real_.Ioctl(fd, request);
}

SysResult FaultySys::Prctl(int option, unsigned long arg) {
  if (auto fault = Intercept(SysCall::kPrctl)) return *fault;
  return real_.Prctl(option, arg);
}

SysResult FaultySys::Openat(int dirfd, const char* path, int flags,
                            mode_t mode) {
  if (auto fault = Intercept(SysCall::kOpenat)) return *fault;
  return real_.Openat(dirfd, path, flags, mode);
}

SysResult FaultySys::Unlinkat(int dirfd, const char* path, int flags) {
  if (auto fault = Intercept(SysCall::kUnlinkat)) return *fault;
  return real_.Unlinkat(dirfd, path, flags);
}

SysResult FaultySys::Openat2(int dirfd, const char* path,
                             const struct open_how* how, size_t size) {
  if (auto fault = Intercept(SysCall::kOpenat2)) return *fault;
  return real_.Openat2(dirfd, path, how, size);
}

SysResult FaultySys::Mkdirat(int dirfd, const char* path, mode_t mode) {
  if (auto fault = Intercept(SysCall::kMkdirat)) return *fault;
  return real_.Mkdirat(dirfd, path, mode);
}

SysResult FaultySys::Mknodat(int dirfd, const char* path, mode_t mode,
                             dev_t dev) {
  if (auto fault = Intercept(SysCall::kMknodat)) return *fault;
  return real_.Mknodat(dirfd, path, mode, dev);
}

SysResult FaultySys::Fchownat(int dirfd, const char* path, uid_t owner,
                              gid_t group, int flags) {
  if (auto fault = Intercept(SysCall::kFchownat)) return *fault;
  return real_.Fchownat(dirfd, path, owner, group, flags);
}

SysResult FaultySys::Fchmodat(int dirfd, const char* path, mode_t mode,
                              int flags) {
  if (auto fault = Intercept(SysCall::kFchmodat)) return *fault;
  return real_.Fchmodat(dirfd, path, mode, flags);
}

SysResult FaultySys::Linkat(int olddirfd, const char* oldpath, int newdirfd,
                            const char* newpath, int flags) {
  if (auto fault = Intercept(SysCall::kLinkat)) return *fault;
  return real_.Linkat(olddirfd, oldpath, newdirfd, newpath, flags);
}

SysResult FaultySys::Symlinkat(const char* target, int newdirfd,
                               const char* linkpath) {
  if (auto fault = Intercept(SysCall::kSymlinkat)) return *fault;
  return real_.Symlinkat(target, newdirfd, linkpath);
}

SysResult FaultySys::Fsetxattr(int fd, const char* name, const void* value,
                               size_t size, int flags) {
  if (auto fault = Intercept(SysCall::kFsetxattr)) return *fault;
  return real_.Fsetxattr(fd, name, value, size, flags);
}

SysResult FaultySys::Utimensat(int dirfd, const char* path,
                               const struct timespec times[2], int flags) {
  if (auto fault = Intercept(SysCall::kUtimensat)) return *fault;
  return real_.Utimensat(dirfd, path, times, flags);
}

SysResult FaultySys::OpenTree(int dirfd, const char* path, unsigned int flags) {
  if (auto fault = Intercept(SysCall::kOpenTree)) return *fault;
  return real_.OpenTree(dirfd, path, flags);
}

SysResult FaultySys::MountSetattr(int dirfd, const char* path,
                                  unsigned int flags, struct mount_attr* attr,
                                  size_t size) {
  if (auto fault = Intercept(SysCall::kMountSetattr)) return *fault;
  return real_.MountSetattr(dirfd, path, flags, attr, size);
}

SysResult FaultySys::MoveMount(int from_dirfd, const char* from_path,
                               int to_dirfd, const char* to_path,
                               unsigned int flags) {
  if (auto fault = Intercept(SysCall::kMoveMount)) return *fault;
  return real_.MoveMount(from_dirfd, from_path, to_dirfd, to_path, flags);
}

SysResult FaultySys::Socket(int domain, int type, int protocol) {
  if (auto fault = Intercept(SysCall::kSocket)) return *fault;
  return real_.Socket(domain, type, protocol);
}

SysResult FaultySys::Connect(int fd, const struct sockaddr* addr,
                             socklen_t len) {
  if (auto fault = Intercept(SysCall::kConnect)) return *fault;
  return real_.Connect(fd, addr, len);
}

SysResult FaultySys::Setsockopt(int fd, int level, int name, const void* value,
                                socklen_t len) {
  if (auto fault = Intercept(SysCall::kSetsockopt)) return *fault;
  return real_.Setsockopt(fd, level, name, value, len);
}

SysResult FaultySys::Sendmsg(int fd, const struct msghdr* msg, int flags) {
  if (auto fault = Intercept(SysCall::kSendmsg)) return *fault;
  return real_.Sendmsg(fd, msg, flags);
}

SysResult FaultySys::Recvmsg(int fd, struct msghdr* msg, int flags) {
  if (auto fault = Intercept(SysCall::kRecvmsg)) return *fault;
  return real_.Recvmsg(fd, msg, flags);
}

}  // namespace podsandbox::sys
