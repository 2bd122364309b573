// Runs one external program to completion: CNI plugins and OCI runtime
// binaries.
//
// The child gets its own process group, so a deadline kills everything it
// started: a hung plugin's grandchildren (delegated IPAM, iptables) inherit
// its stdout, and killing only the plugin would leave the reader blocked
// until they exit. stdout and stderr are read together with poll(2), each
// capped; the child's exit is watched through a pidfd and reaped at once.
// The child inherits descriptors 0, 1 and 2 only (closefrom(3) after the
// dup2s), whatever else this process holds without O_CLOEXEC.
//
// Thread-safe: any number of subprocesses may run at once. The calling
// thread's namespaces are the child's, so call this from a thread that is in
// the host's namespaces.
#ifndef PODSANDBOX_SYS_SUBPROCESS_H_
#define PODSANDBOX_SYS_SUBPROCESS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "sys/sys.h"

namespace podsandbox::sys {

struct Command {
  // An absolute path. Never looked up on PATH.
  std::string path;
  // argv, argv[0] included.
  std::vector<std::string> args;
  // The complete environment, "KEY=value" each.
  std::vector<std::string> env;
  // Written to the child's stdin before it starts (at most kMaxStdin bytes);
  // empty means stdin is /dev/null.
  std::string stdin_data;
  // When set, stdout and stderr append to this file and nothing is captured:
  // for a runtime's create, whose container process inherits them and lives
  // on after the runtime exits.
  std::string output_file;
  // When >= 0, the child's stdout (stderr) is a dup of this fd, which the
  // caller keeps owning, and that stream is not captured: a container's
  // FIFOs, which its runtime's create hands on to the container.
  int stdout_fd = -1;
  int stderr_fd = -1;
  // After this, the whole process group is killed with SIGKILL.
  absl::Duration timeout = absl::Minutes(1);
  // Bytes kept of each of stdout and stderr; the rest is read and dropped.
  size_t output_limit = 1 << 20;
};

inline constexpr size_t kMaxStdin = 1 << 20;

struct SubprocessResult {
  int exit_code = -1;   // when the child exited
  int term_signal = 0;  // when a signal killed it, else 0
  std::string stdout_data;
  std::string stderr_data;
  bool output_truncated = false;

  bool success() const { return term_signal == 0 && exit_code == 0; }
};

// Runs `command` and returns how it ended, whatever its exit code.
// Errors: InvalidArgument for a relative path or oversized stdin;
// FailedPrecondition when the program cannot be executed (missing, not
// executable); DeadlineExceeded when `command.timeout` passed (the group is
// killed and reaped first); Internal for failed pipes or waits.
absl::StatusOr<SubprocessResult> RunSubprocess(Sys& sys,
                                               const Command& command);

// Wall time the calling thread has spent in RunSubprocess so far. Lets a
// benchmark split a call into our own work and the programs it ran (CNI
// plugins, runtime binaries).
absl::Duration ThreadSubprocessTime();

// "killed by signal 9" or "exit code 3", for messages.
std::string DescribeExit(const SubprocessResult& result);

}  // namespace podsandbox::sys

#endif  // PODSANDBOX_SYS_SUBPROCESS_H_
