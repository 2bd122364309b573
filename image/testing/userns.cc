#include "image/testing/userns.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "absl/cleanup/cleanup.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace podsandbox::image::testing {
namespace {

absl::Status Errno(int err, absl::string_view what) {
  return absl::InternalError(absl::StrCat(what, ": ", strerror(err)));
}

}  // namespace

absl::StatusOr<sys::UniqueFd> MakeUserns(uid_t host_base) {
  // A child unshares the namespace and waits while we write its maps from
  // outside (a process cannot map ids it does not own from inside) and
  // open /proc/<pid>/ns/user, which keeps the namespace alive after the
  // child exits.
  int ready[2], done[2];
  if (::pipe2(ready, O_CLOEXEC) != 0) return Errno(errno, "pipe2");
  sys::UniqueFd ready_read(ready[0]), ready_write(ready[1]);
  if (::pipe2(done, O_CLOEXEC) != 0) return Errno(errno, "pipe2");
  sys::UniqueFd done_read(done[0]), done_write(done[1]);
  pid_t pid = ::fork();
  if (pid < 0) return Errno(errno, "fork");
  if (pid == 0) {
    // Only the parent's copy of the write end may keep `done` open.
    done_write.reset();
    char c = ::unshare(CLONE_NEWUSER) == 0 ? 'k' : 'e';
    (void)!::write(ready_write.get(), &c, 1);
    (void)!::read(done_read.get(), &c, 1);  // until the parent closes it
    ::_exit(0);
  }
  // Releasing the child (EOF on `done`) comes before reaping it.
  absl::Cleanup reap = [pid, &done_write] {
    done_write.reset();
    ::waitpid(pid, nullptr, 0);
  };
  ready_write.reset();
  done_read.reset();
  char c = 0;
  if (::read(ready_read.get(), &c, 1) != 1 || c != 'k') {
    return absl::InternalError("unshare(CLONE_NEWUSER) failed in the child");
  }
  std::string map = absl::StrCat("0 ", host_base, " ", kUsernsSize);
  for (const char* file : {"uid_map", "gid_map"}) {
    std::string path = absl::StrCat("/proc/", pid, "/", file);
    sys::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd.valid()) return Errno(errno, absl::StrCat("open ", path));
    if (::write(fd.get(), map.data(), map.size()) !=
        static_cast<ssize_t>(map.size())) {
      return Errno(errno, absl::StrCat("write ", path));
    }
  }
  std::string ns_path = absl::StrCat("/proc/", pid, "/ns/user");
  sys::UniqueFd ns(::open(ns_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!ns.valid()) return Errno(errno, absl::StrCat("open ", ns_path));
  return ns;
}

}  // namespace podsandbox::image::testing
