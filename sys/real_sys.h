// The Sys that makes the real syscalls.
#ifndef PODSANDBOX_SYS_REAL_SYS_H_
#define PODSANDBOX_SYS_REAL_SYS_H_

#include "sys/sys.h"

namespace podsandbox::sys {

class RealSys : public Sys {
 public:
  // sys::Sys
  SysResult Open(const char* path, int flags, mode_t mode) override;
  SysResult Read(int fd, void* buf, size_t count) override;
  SysResult Write(int fd, const void* buf, size_t count) override;
  SysResult Fsync(int fd) override;
  SysResult Fchown(int fd, uid_t owner, gid_t group) override;
  SysResult Flock(int fd, int operation) override;
  SysResult Mkdir(const char* path, mode_t mode) override;
  SysResult Unlink(const char* path) override;
  SysResult Rmdir(const char* path) override;
  SysResult Rename(const char* from, const char* to) override;
  SysResult Mount(const char* source, const char* target, const char* fstype,
                  unsigned long flags, const void* data) override;
  SysResult Umount2(const char* target, int flags) override;
  SysResult Unshare(int flags) override;
  SysResult Setns(int fd, int nstype) override;
  SysResult Setresuid(uid_t ruid, uid_t euid, uid_t suid) override;
  SysResult Clone(int (*fn)(void*), void* stack_top, int flags, void* arg,
                  int* pidfd) override;
  SysResult Clone3(struct clone_args* args, size_t size, int (*fn)(void*),
                   void* arg) override;
  SysResult PosixSpawn(const char* path,
                       const posix_spawn_file_actions_t* actions,
                       const posix_spawnattr_t* attr, char* const argv[],
                       char* const envp[]) override;
  SysResult Pipe2(int fds[2], int flags) override;
  SysResult Kill(pid_t pid, int sig) override;
  SysResult PidfdOpen(pid_t pid, unsigned int flags) override;
  SysResult PidfdSendSignal(int pidfd, int sig) override;
  SysResult Waitid(idtype_t idtype, id_t id, siginfo_t* info,
                   int options) override;
  SysResult Ioctl(int fd, unsigned long request) override;
  SysResult Prctl(int option, unsigned long arg) override;
  SysResult Openat(int dirfd, const char* path, int flags,
                   mode_t mode) override;
  SysResult Unlinkat(int dirfd, const char* path, int flags) override;
  SysResult Openat2(int dirfd, const char* path, const struct open_how* how,
                    size_t size) override;
  SysResult Mkdirat(int dirfd, const char* path, mode_t mode) override;
  SysResult Mknodat(int dirfd, const char* path, mode_t mode,
                    dev_t dev) override;
  SysResult Fchownat(int dirfd, const char* path, uid_t owner, gid_t group,
                     int flags) override;
  SysResult Fchmodat(int dirfd, const char* path, mode_t mode,
                     int flags) override;
  SysResult Linkat(int olddirfd, const char* oldpath, int newdirfd,
                   const char* newpath, int flags) override;
  SysResult Symlinkat(const char* target, int newdirfd,
                      const char* linkpath) override;
  SysResult Fsetxattr(int fd, const char* name, const void* value, size_t size,
                      int flags) override;
  SysResult Utimensat(int dirfd, const char* path,
                      const struct timespec times[2], int flags) override;
  SysResult OpenTree(int dirfd, const char* path, unsigned int flags) override;
  SysResult MountSetattr(int dirfd, const char* path, unsigned int flags,
                         struct mount_attr* attr, size_t size) override;
  SysResult MoveMount(int from_dirfd, const char* from_path, int to_dirfd,
                      const char* to_path, unsigned int flags) override;
  SysResult Socket(int domain, int type, int protocol) override;
  SysResult Connect(int fd, const struct sockaddr* addr,
                    socklen_t len) override;
  SysResult Setsockopt(int fd, int level, int name, const void* value,
                       socklen_t len) override;
  SysResult Sendmsg(int fd, const struct msghdr* msg, int flags) override;
  SysResult Recvmsg(int fd, struct msghdr* msg, int flags) override;
};

}  // namespace podsandbox::sys

#endif  // PODSANDBOX_SYS_REAL_SYS_H_
