// The sandbox's PID 1: holds the pod's namespaces open and does nothing
// else. It exits 0 on SIGINT or SIGTERM and reaps every child it inherits
// (as PID 1 of a pid namespace, or as a child subreaper when it is not), so
// zombies never pile up in the pod.
//
// Fully static and libc-only, so a rootfs holding this one file suffices.
// `pause -v` prints the version and exits.
//
// Signals are blocked and taken with sigwaitinfo(2): nothing runs in signal
// context. They also get an empty handler, installed after blocking: a pid
// namespace's init never receives signals it leaves at SIG_DFL, and the
// handler makes "ready for signals" visible in /proc/<pid>/status (SigCgt)
// for whoever waits for pause to start.
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

constexpr char kVersion[] = "podsandbox-pause 1.0";
constexpr int kExitSignals[] = {SIGINT, SIGTERM};

void Ignore(int) {}

void ReapAll() {
  // WNOHANG: one SIGCHLD may stand for several exits, and none may block.
  while (waitpid(-1, nullptr, WNOHANG) > 0) {
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && strcmp(argv[1], "-v") == 0) {
    printf("%s\n", kVersion);
    return 0;
  }
  if (argc != 1) {
    fprintf(stderr, "usage: %s [-v]\n", argv[0]);
    return 2;
  }
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGCHLD);
  if (sigprocmask(SIG_BLOCK, &signals, nullptr) != 0) {
    perror("pause: sigprocmask");
    return 1;
  }
  struct sigaction action = {};
  action.sa_handler = Ignore;
  for (int sig : kExitSignals) {
    if (sigaction(sig, &action, nullptr) != 0) {
      perror("pause: sigaction");
      return 1;
    }
  }
  // Outside a pid namespace (host PID pods) orphans of our children would
  // otherwise go to the host's init; adopting them keeps the pod's zombies
  // ours to reap. Harmless as PID 1, where it is already so.
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  // Children may have exited before the mask was set.
  ReapAll();
  for (;;) {
    siginfo_t info;
    int sig = sigwaitinfo(&signals, &info);
    if (sig == SIGINT || sig == SIGTERM) return 0;
    if (sig == SIGCHLD) ReapAll();
    // -1 (EINTR from a stop/continue): wait again.
  }
}
