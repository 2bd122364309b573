// podsandbox-keeper: holds the fds podsandboxd hands it so they outlive a
// daemon restart (keeper/server.h). Started by podsandboxd:
//
//   podsandbox-keeper --socket <state>/keeper.sock
//
// It takes the lock and listens first, then forks: the parent exits 0 (so
// the starter knows the socket answers) and the child, in its own session,
// serves until idle. Exit 0 too when another keeper already serves the
// path; 2 for bad arguments; 1 when it cannot listen.
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "absl/time/time.h"
#include "keeper/server.h"
#include "sys/log.h"
#include "sys/real_sys.h"

namespace {

// The starter connects right after we return; a keeper nobody reached by
// then (the starter died) must not linger.
constexpr absl::Duration kFirstClientWait = absl::Seconds(30);

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 || std::strcmp(argv[1], "--socket") != 0 || argv[2][0] != '/') {
    PSB_LOG(kError, "usage: podsandbox-keeper --socket /ABSOLUTE/PATH");
    return 2;
  }
  podsandbox::sys::RealSys sys;
  absl::StatusOr<std::unique_ptr<podsandbox::keeper::Server>> server =
      podsandbox::keeper::Server::Listen(sys, argv[2], kFirstClientWait);
  if (absl::IsAlreadyExists(server.status())) return 0;
  if (!server.ok()) {
    PSB_LOG(kError, "keeper: %s", server.status().ToString());
    return 1;
  }
  // Three fds per running container: a soft limit of 1024 (what a shell
  // or a unit without LimitNOFILE gives) would refuse holds past ~340
  // containers, so take all the hard limit allows. Before the fork, so it
  // is in place by the time our starter returns.
  struct rlimit files;
  if (::getrlimit(RLIMIT_NOFILE, &files) == 0 &&
      files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &files);
  }
  // Single-threaded until here, so a plain fork is safe. The child is
  // re-parented to the nearest subreaper (podsandboxd) or init; its own
  // session keeps it out of the starter's process group, which a deadline
  // of the starter would kill.
  pid_t child = ::fork();
  if (child < 0) {
    PSB_LOG(kError, "keeper: fork: %s", std::strerror(errno));
    return 1;
  }
  if (child > 0) ::_exit(0);
  ::setsid();
  // podsandboxd blocks SIGTERM and SIGINT in every thread (it sigwaits for
  // them), and a signal mask survives exec: unblock them, so the keeper
  // can be stopped like any process.
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  // A peer that dies mid-send is an error return (MSG_NOSIGNAL), but be
  // sure no stray SIGPIPE ends the holder of every container's pipes.
  ::signal(SIGPIPE, SIG_IGN);
  int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null >= 0) ::dup2(null, 0);
  absl::Status served = (*server)->Run();
  if (!served.ok()) {
    PSB_LOG(kError, "keeper: %s", served.ToString());
    return 1;
  }
  return 0;
}
