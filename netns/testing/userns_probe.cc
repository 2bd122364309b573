#include "netns/testing/userns_probe.h"

#include <fcntl.h>
#include <linux/nsfs.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "netns/in_netns.h"
#include "sys/file.h"
#include "sys/real_sys.h"
#include "sys/status.h"
#include "sys/unique_fd.h"
#include "userns/proc_maps.h"

namespace podsandbox::netns {

absl::StatusOr<UsernsView> ProbeUserns(const std::string& userns_path) {
  sys::UniqueFd ns(::open(userns_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!ns.valid()) return sys::ErrnoError(errno, "open %s", userns_path);
  UsernsView view;
  if (::ioctl(ns.get(), NS_GET_OWNER_UID, &view.owner_uid) != 0) {
    return sys::ErrnoError(errno, "ioctl NS_GET_OWNER_UID");
  }
  int ready[2];
  if (::pipe2(ready, O_CLOEXEC) != 0) return sys::ErrnoError(errno, "pipe2");
  sys::UniqueFd ready_read(ready[0]), ready_write(ready[1]);
  pid_t pid = ::fork();
  if (pid < 0) return sys::ErrnoError(errno, "fork");
  if (pid == 0) {
    // Single-threaded here, so joining a user namespace is allowed.
    char ok = ::setns(ns.get(), CLONE_NEWUSER) == 0 ? 1 : 0;
    (void)!::write(ready_write.get(), &ok, 1);
    ::pause();
    ::_exit(0);
  }
  absl::Cleanup reap = [pid] {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  };
  ready_write.reset();
  char ok = 0;
  if (::read(ready_read.get(), &ok, 1) != 1 || ok != 1) {
    return absl::InternalError("probe child could not join the user namespace");
  }
  ASSIGN_OR_RETURN(view.mappings, userns::ReadProcessMaps(pid));
  ASSIGN_OR_RETURN(std::string setgroups,
                   sys::ReadFile(absl::StrCat("/proc/", pid, "/setgroups")));
  view.setgroups = std::string(absl::StripAsciiWhitespace(setgroups));
  return view;
}

absl::StatusOr<bool> LinkIsUp(const std::string& netns_path,
                              const std::string& ifname) {
  sys::RealSys sys;
  sys::UniqueFd ns(::open(netns_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!ns.valid()) return sys::ErrnoError(errno, "open %s", netns_path);
  bool up = false;
  RETURN_IF_ERROR(RunInNetns(sys, ns.get(), [&]() -> absl::Status {
    sys::UniqueFd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!sock.valid()) return sys::ErrnoError(errno, "socket");
    struct ifreq req = {};
    std::strncpy(req.ifr_name, ifname.c_str(), IFNAMSIZ - 1);
    if (::ioctl(sock.get(), SIOCGIFFLAGS, &req) != 0) {
      return sys::ErrnoError(errno, "SIOCGIFFLAGS %s", ifname);
    }
    up = (req.ifr_flags & IFF_UP) != 0;
    return absl::OkStatus();
  }));
  return up;
}

}  // namespace podsandbox::netns
