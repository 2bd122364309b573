// The syscall seam. Every syscall with a side effect that the library makes
// goes through a Sys&, injected through constructors, so that tests can make
// any one of them fail (see sys/testing/faulty_sys.h).
//
// Each method mirrors one syscall 1:1: same arguments, no retries, no
// helpers. The result is a SysResult: the syscall's return value, or the
// errno it failed with. errno lives nowhere else; the first caller that
// knows what the call meant turns it into a Status with sys::ErrnoError.
//
// Implementations are thread-safe.
#ifndef PODSANDBOX_SYS_SYS_H_
#define PODSANDBOX_SYS_SYS_H_

#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <cstddef>

struct open_how;
struct mount_attr;
struct clone_args;

namespace podsandbox::sys {

struct SysResult {
  long value = 0;  // the syscall's return value when ok()
  int err = 0;     // errno when the call failed, else 0

  bool ok() const { return err == 0; }
};

class Sys {
 public:
  virtual ~Sys() = default;

  // See open(2).
  virtual SysResult Open(const char* path, int flags, mode_t mode) = 0;
  // See read(2).
  virtual SysResult Read(int fd, void* buf, size_t count) = 0;
  // See write(2).
  virtual SysResult Write(int fd, const void* buf, size_t count) = 0;
  // See fsync(2).
  virtual SysResult Fsync(int fd) = 0;
  // See fchown(2).
  virtual SysResult Fchown(int fd, uid_t owner, gid_t group) = 0;
  // See flock(2).
  virtual SysResult Flock(int fd, int operation) = 0;
  // See mkdir(2).
  virtual SysResult Mkdir(const char* path, mode_t mode) = 0;
  // See unlink(2).
  virtual SysResult Unlink(const char* path) = 0;
  // See rmdir(2).
  virtual SysResult Rmdir(const char* path) = 0;
  // See rename(2).
  virtual SysResult Rename(const char* from, const char* to) = 0;
  // See mount(2).
  virtual SysResult Mount(const char* source, const char* target,
                          const char* fstype, unsigned long flags,
                          const void* data) = 0;
  // See umount2(2).
  virtual SysResult Umount2(const char* target, int flags) = 0;
  // See unshare(2).
  virtual SysResult Unshare(int flags) = 0;
  // See setns(2).
  virtual SysResult Setns(int fd, int nstype) = 0;
  // See setresuid(2). The raw syscall: it changes only the calling thread's
  // credentials (glibc's wrapper would change every thread's).
  virtual SysResult Setresuid(uid_t ruid, uid_t euid, uid_t suid) = 0;
  // See clone(2) (glibc's wrapper). `fn` runs in the child on `stack_top`.
  // With CLONE_PIDFD, the pidfd is stored in *pidfd. On success `value` is
  // the child's pid.
  virtual SysResult Clone(int (*fn)(void*), void* stack_top, int flags,
                          void* arg, int* pidfd) = 0;
  // See clone3(2), without CLONE_VM and with no stack (args->stack 0): the
  // child runs on a copy of the caller's memory and stack. In the child,
  // `fn(arg)` runs and the child exits with its result (a raw exit: the
  // call never returns there). `args` points to a struct clone_args of
  // `size` bytes. On success `value` is the child's pid.
  virtual SysResult Clone3(struct clone_args* args, size_t size,
                           int (*fn)(void*), void* arg) = 0;
  // See posix_spawn(3). On success `value` is the child's pid.
  virtual SysResult PosixSpawn(const char* path,
                               const posix_spawn_file_actions_t* actions,
                               const posix_spawnattr_t* attr,
                               char* const argv[], char* const envp[]) = 0;
  // See pipe2(2).
  virtual SysResult Pipe2(int fds[2], int flags) = 0;
  // See kill(2). A negative pid signals a process group.
  virtual SysResult Kill(pid_t pid, int sig) = 0;
  // See pidfd_open(2).
  virtual SysResult PidfdOpen(pid_t pid, unsigned int flags) = 0;
  // See pidfd_send_signal(2), with no siginfo.
  virtual SysResult PidfdSendSignal(int pidfd, int sig) = 0;
  // See waitid(2). P_PIDFD is glibc's idtype_t value (2.36 has it; the
  // project needs >= 2.34 for closefrom anyway), not a macro to define.
  virtual SysResult Waitid(idtype_t idtype, id_t id, siginfo_t* info,
                           int options) = 0;
  // See ioctl(2), for requests that take no argument (such as
  // NS_GET_USERNS).
  virtual SysResult Ioctl(int fd, unsigned long request) = 0;
  // See prctl(2), for options that take one argument.
  virtual SysResult Prctl(int option, unsigned long arg) = 0;
  // See openat(2).
  virtual SysResult Openat(int dirfd, const char* path, int flags,
                           mode_t mode) = 0;
  // See unlinkat(2).
  virtual SysResult Unlinkat(int dirfd, const char* path, int flags) = 0;
  // See openat2(2). `how` points to a struct open_how of `size` bytes.
  virtual SysResult Openat2(int dirfd, const char* path,
                            const struct open_how* how, size_t size) = 0;
  // See mkdirat(2).
  virtual SysResult Mkdirat(int dirfd, const char* path, mode_t mode) = 0;
  // See mknodat(2).
  virtual SysResult Mknodat(int dirfd, const char* path, mode_t mode,
                            dev_t dev) = 0;
  // See fchownat(2).
  virtual SysResult Fchownat(int dirfd, const char* path, uid_t owner,
                             gid_t group, int flags) = 0;
  // See fchmodat(2) (glibc's wrapper).
  virtual SysResult Fchmodat(int dirfd, const char* path, mode_t mode,
                             int flags) = 0;
  // See linkat(2).
  virtual SysResult Linkat(int olddirfd, const char* oldpath, int newdirfd,
                           const char* newpath, int flags) = 0;
  // See symlinkat(2).
  virtual SysResult Symlinkat(const char* target, int newdirfd,
                              const char* linkpath) = 0;
  // See fsetxattr(2).
  virtual SysResult Fsetxattr(int fd, const char* name, const void* value,
                              size_t size, int flags) = 0;
  // See utimensat(2).
  virtual SysResult Utimensat(int dirfd, const char* path,
                              const struct timespec times[2], int flags) = 0;
  // See open_tree(2).
  virtual SysResult OpenTree(int dirfd, const char* path,
                             unsigned int flags) = 0;
  // See mount_setattr(2). `attr` points to a struct mount_attr of `size`
  // bytes.
  virtual SysResult MountSetattr(int dirfd, const char* path,
                                 unsigned int flags, struct mount_attr* attr,
                                 size_t size) = 0;
  // See move_mount(2).
  virtual SysResult MoveMount(int from_dirfd, const char* from_path,
                              int to_dirfd, const char* to_path,
                              unsigned int flags) = 0;
  // See socket(2).
  virtual SysResult Socket(int domain, int type, int protocol) = 0;
  // See connect(2).
  virtual SysResult Connect(int fd, const struct sockaddr* addr,
                            socklen_t len) = 0;
  // See setsockopt(2).
  virtual SysResult Setsockopt(int fd, int level, int name, const void* value,
                               socklen_t len) = 0;
  // See sendmsg(2).
  virtual SysResult Sendmsg(int fd, const struct msghdr* msg, int flags) = 0;
  // See recvmsg(2). Descriptors received with SCM_RIGHTS are the caller's
  // to close.
  virtual SysResult Recvmsg(int fd, struct msghdr* msg, int flags) = 0;
};

}  // namespace podsandbox::sys

#endif  // PODSANDBOX_SYS_SYS_H_
