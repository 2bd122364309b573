#include "sys/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <cerrno>
#include <memory>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "sys/file.h"
#include "sys/status.h"
#include "sys/unique_fd.h"

// posix_spawn_file_actions_addclosefrom_np is glibc 2.34's; without it a
// spawned child would inherit every descriptor not marked O_CLOEXEC.
#if !defined(__GLIBC__) || !__GLIBC_PREREQ(2, 34)
#error "podsandbox needs glibc 2.34 or later (posix_spawn closefrom)"
#endif

namespace podsandbox::sys {
namespace {

// Per thread, so that a benchmark reading it around one call sees only
// that call's children, whatever other threads run.
thread_local absl::Duration thread_subprocess_time;

// How long to keep reading after the child exited, for output that its
// descendants still hold open, before they are killed.
constexpr absl::Duration kDrainGrace = absl::Milliseconds(250);
// How long to wait for a killed group's pipes to close.
constexpr absl::Duration kKillGrace = absl::Seconds(1);
// ETXTBSY: the binary is still open for writing (being installed). libcni
// retries too.
constexpr int kSpawnAttempts = 5;
constexpr absl::Duration kSpawnRetryDelay = absl::Milliseconds(100);

// NULL-terminated char* arrays over strings that outlive them.
std::vector<char*> CStrings(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (const std::string& s : strings)
    out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

struct Pipe {
  UniqueFd read;
  UniqueFd write;
};

absl::StatusOr<Pipe> MakePipe(Sys& sys) {
  int fds[2];
  if (SysResult r = sys.Pipe2(fds, O_CLOEXEC); !r.ok()) {
    return ErrnoError(r.err, "pipe2");
  }
  return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

// A pipe whose read end already holds all of `data` and whose write end is
// closed, so the child reads `data` then EOF. Writing before the child
// exists means no SIGPIPE and no polling for writability.
absl::StatusOr<UniqueFd> StdinPipe(Sys& sys, const std::string& data) {
  ASSIGN_OR_RETURN(Pipe pipe, MakePipe(sys));
  int capacity = ::fcntl(pipe.write.get(), F_GETPIPE_SZ);
  if (capacity >= 0 && static_cast<size_t>(capacity) < data.size()) {
    capacity = ::fcntl(pipe.write.get(), F_SETPIPE_SZ, data.size());
  }
  if (capacity < 0 || static_cast<size_t>(capacity) < data.size()) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "stdin of ", data.size(), " bytes does not fit in a pipe"));
  }
  ::fcntl(pipe.write.get(), F_SETFL, O_NONBLOCK);
  RETURN_IF_ERROR(WriteAll(sys, pipe.write.get(), data));
  return std::move(pipe.read);
}

class Spawner {
 public:
  Spawner() {
    ::posix_spawn_file_actions_init(&actions_);
    ::posix_spawnattr_init(&attr_);
  }
  ~Spawner() {
    ::posix_spawn_file_actions_destroy(&actions_);
    ::posix_spawnattr_destroy(&attr_);
  }

  // The child: its own process group, default signal dispositions and an
  // empty mask (the daemon may ignore SIGPIPE or block signals), and the
  // three standard descriptors and no others.
  absl::Status Configure(int stdin_fd, int stdout_fd, int stderr_fd) {
    sigset_t all;
    sigset_t none;
    ::sigfillset(&all);
    ::sigemptyset(&none);
    ::posix_spawnattr_setflags(&attr_, POSIX_SPAWN_SETPGROUP |
                                           POSIX_SPAWN_SETSIGDEF |
                                           POSIX_SPAWN_SETSIGMASK);
    ::posix_spawnattr_setpgroup(&attr_, 0);
    ::posix_spawnattr_setsigdefault(&attr_, &all);
    ::posix_spawnattr_setsigmask(&attr_, &none);
    int err =
        ::posix_spawn_file_actions_adddup2(&actions_, stdin_fd, STDIN_FILENO);
    if (err == 0) {
      err = ::posix_spawn_file_actions_adddup2(&actions_, stdout_fd,
                                               STDOUT_FILENO);
    }
    if (err == 0) {
      err = ::posix_spawn_file_actions_adddup2(&actions_, stderr_fd,
                                               STDERR_FILENO);
    }
    // After the dup2s (actions run in order): O_CLOEXEC on our own fds is
    // not enough, since a library or another thread may hold one without
    // it, and a runtime's create hands what it inherited to the pause,
    // which keeps it for the pod's life.
    if (err == 0) {
      err = ::posix_spawn_file_actions_addclosefrom_np(&actions_,
                                                       STDERR_FILENO + 1);
    }
    if (err != 0) return ErrnoError(err, "posix_spawn file actions");
    return absl::OkStatus();
  }

  absl::StatusOr<pid_t> Spawn(Sys& sys, const Command& command) {
    std::vector<char*> argv = CStrings(command.args);
    std::vector<char*> envp = CStrings(command.env);
    SysResult r;
    for (int attempt = 1; attempt <= kSpawnAttempts; ++attempt) {
      r = sys.PosixSpawn(command.path.c_str(), &actions_, &attr_, argv.data(),
                         envp.data());
      if (r.ok() || r.err != ETXTBSY) break;
      absl::SleepFor(kSpawnRetryDelay * attempt);
    }
    if (!r.ok()) {
      return absl::FailedPreconditionError(
          absl::StrCat("exec ", command.path, ": ", ::strerror(r.err)));
    }
    return static_cast<pid_t>(r.value);
  }

 private:
  posix_spawn_file_actions_t actions_;
  posix_spawnattr_t attr_;
};

// Reads what is available from `fd` into `out`, keeping at most `limit`
// bytes. Returns false at EOF (or a read error, which ends the stream too).
bool Drain(int fd, std::string& out, size_t limit, bool& truncated) {
  char buf[16384];
  ssize_t n = ::read(fd, buf, sizeof(buf));
  if (n < 0) return errno == EINTR || errno == EAGAIN;
  if (n == 0) return false;
  size_t keep =
      std::min(static_cast<size_t>(n), limit - std::min(limit, out.size()));
  out.append(buf, keep);
  if (keep < static_cast<size_t>(n)) truncated = true;
  return true;
}

// Watches one running child until it has exited and its output is read.
class Supervision {
 public:
  Supervision(Sys& sys, pid_t pid, UniqueFd pidfd, UniqueFd out, UniqueFd err,
              size_t limit)
      : sys_(sys),
        pid_(pid),
        pidfd_(std::move(pidfd)),
        out_(std::move(out)),
        err_(std::move(err)),
        limit_(limit) {}

  // Returns OK once the child is reaped and both streams are closed or
  // abandoned; DeadlineExceeded if `deadline` passed first (the group is
  // then killed and the child reaped).
  absl::Status Run(absl::Time deadline) {
    absl::Time drain_until = absl::InfiniteFuture();
    while (!reaped_ || out_.valid() || err_.valid()) {
      absl::Time now = absl::Now();
      if (now >= deadline) {
        KillGroupAndReap();
        return absl::DeadlineExceededError("timed out");
      }
      if (now >= drain_until) {
        // The child is gone; whoever still holds its output belongs to it.
        (void)sys_.Kill(-pid_, SIGKILL);
        break;
      }
      RETURN_IF_ERROR(PollOnce(std::min(deadline, drain_until) - now));
      if (reaped_ && drain_until == absl::InfiniteFuture()) {
        drain_until = absl::Now() + kDrainGrace;
      }
    }
    return absl::OkStatus();
  }

  SubprocessResult TakeResult() { return std::move(result_); }

 private:
  absl::Status PollOnce(absl::Duration timeout) {
    struct pollfd fds[3];
    int n = 0;
    int out_i = -1, err_i = -1, pid_i = -1;
    if (out_.valid()) fds[out_i = n++] = {out_.get(), POLLIN, 0};
    if (err_.valid()) fds[err_i = n++] = {err_.get(), POLLIN, 0};
    if (!reaped_) fds[pid_i = n++] = {pidfd_.get(), POLLIN, 0};
    int ms = static_cast<int>(
        std::max<int64_t>(1, absl::ToInt64Milliseconds(timeout) + 1));
    int ready = ::poll(fds, n, ms);
    if (ready < 0 && errno != EINTR) return ErrnoError(errno, "poll");
    if (ready <= 0) return absl::OkStatus();
    if (out_i >= 0 && fds[out_i].revents != 0 &&
        !Drain(out_.get(), result_.stdout_data, limit_,
               result_.output_truncated)) {
      out_.reset();
    }
    if (err_i >= 0 && fds[err_i].revents != 0 &&
        !Drain(err_.get(), result_.stderr_data, limit_,
               result_.output_truncated)) {
      err_.reset();
    }
    if (pid_i >= 0 && fds[pid_i].revents != 0) RETURN_IF_ERROR(Reap(0));
    return absl::OkStatus();
  }

  // Reaps the child if it has exited (or waits, without WNOHANG in flags).
  absl::Status Reap(int flags) {
    siginfo_t info = {};
    SysResult r = sys_.Waitid(P_PIDFD, static_cast<id_t>(pidfd_.get()), &info,
                              WEXITED | flags);
    if (!r.ok() && r.err == EINTR) return absl::OkStatus();
    if (!r.ok()) return ErrnoError(r.err, "waitid pid %d", pid_);
    if (info.si_pid == 0) return absl::OkStatus();  // WNOHANG, still running
    reaped_ = true;
    if (info.si_code == CLD_EXITED) {
      result_.exit_code = info.si_status;
    } else {
      result_.term_signal = info.si_status;
    }
    return absl::OkStatus();
  }

  void KillGroupAndReap() {
    (void)sys_.Kill(-pid_, SIGKILL);  // ESRCH: the group is already gone
    absl::Time until = absl::Now() + kKillGrace;
    while ((out_.valid() || err_.valid() || !reaped_) && absl::Now() < until) {
      if (!PollOnce(until - absl::Now()).ok()) break;
    }
    // SIGKILL was sent: the wait cannot block for long.
    if (!reaped_) (void)Reap(0);
  }

  Sys& sys_;
  pid_t pid_;
  UniqueFd pidfd_;
  UniqueFd out_;
  UniqueFd err_;
  size_t limit_;
  bool reaped_ = false;
  SubprocessResult result_;
};

}  // namespace

absl::StatusOr<SubprocessResult> RunSubprocess(Sys& sys,
                                               const Command& command) {
  absl::Time started = absl::Now();
  absl::Cleanup account = [started] {
    thread_subprocess_time += absl::Now() - started;
  };
  if (command.path.empty() || command.path[0] != '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("exec ", command.path, ": path must be absolute"));
  }
  if (command.stdin_data.size() > kMaxStdin) {
    return absl::InvalidArgumentError(absl::StrCat(
        "exec ", command.path, ": stdin over ", kMaxStdin, " bytes"));
  }
  absl::Time deadline = absl::Now() + command.timeout;

  UniqueFd stdin_fd;
  if (command.stdin_data.empty()) {
    ASSIGN_OR_RETURN(stdin_fd, OpenFile(sys, "/dev/null", O_RDONLY));
  } else {
    ASSIGN_OR_RETURN(stdin_fd, StdinPipe(sys, command.stdin_data));
  }
  UniqueFd out_read, err_read, out_write, err_write;
  if (!command.output_file.empty()) {
    ASSIGN_OR_RETURN(out_write, OpenFile(sys, command.output_file,
                                         O_WRONLY | O_CREAT | O_APPEND, 0600));
  } else {
    ASSIGN_OR_RETURN(Pipe out, MakePipe(sys));
    ASSIGN_OR_RETURN(Pipe err, MakePipe(sys));
    out_read = std::move(out.read);
    out_write = std::move(out.write);
    err_read = std::move(err.read);
    err_write = std::move(err.write);
  }
  int child_stdout = out_write.get();
  int child_stderr = err_write.valid() ? err_write.get() : out_write.get();
  // A caller's fd replaces a stream; its pipe then sees only EOF.
  if (command.stdout_fd >= 0) child_stdout = command.stdout_fd;
  if (command.stderr_fd >= 0) child_stderr = command.stderr_fd;

  Spawner spawner;
  RETURN_IF_ERROR(
      spawner.Configure(stdin_fd.get(), child_stdout, child_stderr));
  ASSIGN_OR_RETURN(pid_t pid, spawner.Spawn(sys, command));
  // The child holds its own copies now; ours would keep the pipes open.
  stdin_fd.reset();
  out_write.reset();
  err_write.reset();

  SysResult pidfd = sys.PidfdOpen(pid, 0);
  if (!pidfd.ok()) {
    // Cannot supervise it: kill it and reap it blocking (it is our child, so
    // its zombie is still there to reap).
    (void)sys.Kill(-pid, SIGKILL);
    siginfo_t info;
    (void)sys.Waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED);
    return ErrnoError(pidfd.err, "pidfd_open %s (pid %d)", command.path, pid);
  }
  Supervision supervision(sys, pid, UniqueFd(static_cast<int>(pidfd.value)),
                          std::move(out_read), std::move(err_read),
                          command.output_limit);
  absl::Status status = supervision.Run(deadline);
  if (absl::IsDeadlineExceeded(status)) {
    return absl::DeadlineExceededError(
        absl::StrCat(command.path, " did not finish within ",
                     absl::FormatDuration(command.timeout),
                     "; its process group was killed"));
  }
  RETURN_IF_ERROR(status);
  return supervision.TakeResult();
}

std::string DescribeExit(const SubprocessResult& result) {
  if (result.term_signal != 0) {
    return absl::StrCat("killed by signal ", result.term_signal);
  }
  return absl::StrCat("exit code ", result.exit_code);
}

absl::Duration ThreadSubprocessTime() { return thread_subprocess_time; }

}  // namespace podsandbox::sys
