#include "sys/real_sys.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "sys/raw_syscall.h"

namespace podsandbox::sys {
namespace {

// The value of a syscall that reports failure as -1 plus errno.
SysResult FromReturn(long value) {
  if (value == -1) return SysResult{-1, errno};
  return SysResult{value, 0};
}

}  // namespace

SysResult RealSys::Open(const char* path, int flags, mode_t mode) {
  return FromReturn(::open(path, flags, mode));
}

SysResult RealSys::Read(int fd, void* buf, size_t count) {
  return FromReturn(::read(fd, buf, count));
}

SysResult RealSys::Write(int fd, const void* buf, size_t count) {
  return FromReturn(::write(fd, buf, count));
}

SysResult RealSys::Fsync(int fd) { return FromReturn(::fsync(fd)); }

SysResult RealSys::Fchown(int fd, uid_t owner, gid_t group) {
  return FromReturn(::fchown(fd, owner, group));
}

SysResult RealSys::Flock(int fd, int operation) {
  return FromReturn(::flock(fd, operation));
}

SysResult RealSys::Mkdir(const char* path, mode_t mode) {
  return FromReturn(::mkdir(path, mode));
}

SysResult RealSys::Unlink(const char* path) {
  return FromReturn(::unlink(path));
}

SysResult RealSys::Rmdir(const char* path) { return FromReturn(::rmdir(path)); }

SysResult RealSys::Rename(const char* from, const char* to) {
  return FromReturn(::rename(from, to));
}

SysResult RealSys::Mount(const char* source, const char* target,
                         const char* fstype, unsigned long flags,
                         const void* data) {
  return FromReturn(::mount(source, target, fstype, flags, data));
}

SysResult RealSys::Umount2(const char* target, int flags) {
  return FromReturn(::umount2(target, flags));
}

SysResult RealSys::Unshare(int flags) { return FromReturn(::unshare(flags)); }

SysResult RealSys::Setns(int fd, int nstype) {
  return FromReturn(::setns(fd, nstype));
}

SysResult RealSys::Setresuid(uid_t ruid, uid_t euid, uid_t suid) {
  // Not glibc's wrapper, which applies the change to every thread.
  return FromReturn(::syscall(SYS_setresuid, ruid, euid, suid));
}

SysResult RealSys::Clone(int (*fn)(void*), void* stack_top, int flags,
                         void* arg, int* pidfd) {
  return FromReturn(::clone(fn, stack_top, flags, arg, pidfd));
}

SysResult RealSys::Clone3(struct clone_args* args, size_t size,
                          int (*fn)(void*), void* arg) {
  long pid = ::syscall(SYS_clone3, args, size);
  if (pid == 0) {
    // The child: a copy of a possibly multithreaded process, so nothing
    // but `fn` (which must be async-signal-safe) and a raw exit, which
    // skips atexit handlers and stdio flushes that belong to the parent.
    RawSyscall3(SYS_exit, fn(arg), 0, 0);
    __builtin_unreachable();
  }
  return FromReturn(pid);
}

SysResult RealSys::PosixSpawn(const char* path,
                              const posix_spawn_file_actions_t* actions,
                              const posix_spawnattr_t* attr, char* const argv[],
                              char* const envp[]) {
  pid_t pid = 0;
  // posix_spawn returns the error number instead of setting errno.
  int err = ::posix_spawn(&pid, path, actions, attr, argv, envp);
  if (err != 0) return SysResult{-1, err};
  return SysResult{pid, 0};
}

SysResult RealSys::Pipe2(int fds[2], int flags) {
  return FromReturn(::pipe2(fds, flags));
}

SysResult RealSys::Kill(pid_t pid, int sig) {
  return FromReturn(::kill(pid, sig));
}

SysResult RealSys::PidfdOpen(pid_t pid, unsigned int flags) {
  return FromReturn(::syscall(SYS_pidfd_open, pid, flags));
}

SysResult RealSys::PidfdSendSignal(int pidfd, int sig) {
  return FromReturn(::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0));
}

SysResult RealSys::Waitid(idtype_t idtype, id_t id, siginfo_t* info,
                          int options) {
  return FromReturn(::waitid(idtype, id, info, options));
}

SysResult RealSys::Ioctl(int fd, unsigned long request) {
  return FromReturn(::ioctl(fd, request));
}

SysResult RealSys::Prctl(int option, unsigned long arg) {
  return FromReturn(::prctl(option, arg, 0, 0, 0));
}

SysResult RealSys::Openat(int dirfd, const char* path, int flags, mode_t mode) {
  return FromReturn(::openat(dirfd, path, flags, mode));
}

SysResult RealSys::Unlinkat(int dirfd, const char* path, int flags) {
  return FromReturn(::unlinkat(dirfd, path, flags));
}

SysResult RealSys::Openat2(int dirfd, const char* path,
                           const struct open_how* how, size_t size) {
  // glibc 2.36 has no wrapper.
  return FromReturn(::syscall(SYS_openat2, dirfd, path, how, size));
}

SysResult RealSys::Mkdirat(int dirfd, const char* path, mode_t mode) {
  return FromReturn(::mkdirat(dirfd, path, mode));
}

SysResult RealSys::Mknodat(int dirfd, const char* path, mode_t mode,
                           dev_t dev) {
  return FromReturn(::mknodat(dirfd, path, mode, dev));
}

SysResult RealSys::Fchownat(int dirfd, const char* path, uid_t owner,
                            gid_t group, int flags) {
  return FromReturn(::fchownat(dirfd, path, owner, group, flags));
}

SysResult RealSys::Fchmodat(int dirfd, const char* path, mode_t mode,
                            int flags) {
  return FromReturn(::fchmodat(dirfd, path, mode, flags));
}

SysResult RealSys::Linkat(int olddirfd, const char* oldpath, int newdirfd,
                          const char* newpath, int flags) {
  return FromReturn(::linkat(olddirfd, oldpath, newdirfd, newpath, flags));
}

SysResult RealSys::Symlinkat(const char* target, int newdirfd,
                             const char* linkpath) {
  return FromReturn(::symlinkat(target, newdirfd, linkpath));
}

SysResult RealSys::Fsetxattr(int fd, const char* name, const void* value,
                             size_t size, int flags) {
  return FromReturn(::fsetxattr(fd, name, value, size, flags));
}

SysResult RealSys::Utimensat(int dirfd, const char* path,
                             const struct timespec times[2], int flags) {
  return FromReturn(::utimensat(dirfd, path, times, flags));
}

SysResult RealSys::OpenTree(int dirfd, const char* path, unsigned int flags) {
  return FromReturn(::open_tree(dirfd, path, flags));
}

SysResult RealSys::MountSetattr(int dirfd, const char* path, unsigned int flags,
                                struct mount_attr* attr, size_t size) {
  return FromReturn(::mount_setattr(dirfd, path, flags, attr, size));
}

SysResult RealSys::MoveMount(int from_dirfd, const char* from_path,
                             int to_dirfd, const char* to_path,
                             unsigned int flags) {
  return FromReturn(
      ::move_mount(from_dirfd, from_path, to_dirfd, to_path, flags));
}

SysResult RealSys::Socket(int domain, int type, int protocol) {
  return FromReturn(::socket(domain, type, protocol));
}

SysResult RealSys::Connect(int fd, const struct sockaddr* addr, socklen_t len) {
  return FromReturn(::connect(fd, addr, len));
}

SysResult RealSys::Setsockopt(int fd, int level, int name, const void* value,
                              socklen_t len) {
  return FromReturn(::setsockopt(fd, level, name, value, len));
}

SysResult RealSys::Sendmsg(int fd, const struct msghdr* msg, int flags) {
  return FromReturn(::sendmsg(fd, msg, flags));
}

SysResult RealSys::Recvmsg(int fd, struct msghdr* msg, int flags) {
  return FromReturn(::recvmsg(fd, msg, flags));
}

}  // namespace podsandbox::sys
