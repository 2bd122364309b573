// Running one OCI runtime binary: the part runc, crun and runsc share.
// Builds `<path> --root <root> <extra args> <per-call global args> <command>`,
// runs it under the handler's deadline with sys::RunSubprocess, and turns a
// failure into a Status that carries the runtime's own message.
//
// Thread-safe: holds only immutable configuration.
#ifndef PODSANDBOX_OCI_RUNTIME_CLI_H_
#define PODSANDBOX_OCI_RUNTIME_CLI_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "oci/runtime.h"
#include "oci/runtime_handler.h"
#include "sys/subprocess.h"
#include "sys/sys.h"

namespace podsandbox::oci {

struct RuntimeCall {
  // For messages: "create", "kill".
  std::string op;
  std::string id;
  // Global options for this call only (before the command).
  std::vector<std::string> global_args;
  // The command and its arguments.
  std::vector<std::string> args;
  // When set, stdout and stderr go to this file (see sys::Command).
  std::string output_file;
  // A log the runtime writes (log.json); its messages explain a failure.
  std::string log_file;
  // The runtime's stdout and stderr when >= 0 (see sys::Command): a
  // container's FIFOs at create, which the container inherits.
  int stdout_fd = -1;
  int stderr_fd = -1;
  // Written to the runtime's stdin (`update --resources -`).
  std::string stdin_data;
};

class RuntimeCli {
 public:
  // `not_found_markers`: substrings of this runtime's messages that mean
  // "no such container".
  RuntimeCli(sys::Sys& sys, RuntimeHandler handler,
             std::vector<std::string> not_found_markers);

  const RuntimeHandler& handler() const { return handler_; }

  // Runs `call`; returns its stdout when the runtime exited 0. Errors:
  // NotFound when its message has a not-found marker, the subprocess's
  // errors (FailedPrecondition for a binary that cannot be executed,
  // DeadlineExceeded), Internal for any other failure; each message reads
  // "<runtime> <op> <id>: <the runtime's message>".
  absl::StatusOr<std::string> Run(const RuntimeCall& call) const;

  // Runs `call` and returns how it ended, whatever its exit code, keeping
  // at most `output_limit` bytes of each stream, with `timeout` instead of
  // the handler's when non-zero: for `exec`, whose command's exit code is a
  // result. Errors: the subprocess's (DeadlineExceeded, FailedPrecondition).
  absl::StatusOr<sys::SubprocessResult> RunRaw(const RuntimeCall& call,
                                               size_t output_limit,
                                               absl::Duration timeout) const;

  // The commands that runc, crun and runsc take with the same arguments
  // (the OCI runtime command line): `start`, `state` (parsed), `kill` and
  // `delete --force`. Errors as Run's.
  absl::Status Start(absl::string_view id) const;
  absl::StatusOr<RuntimeState> State(absl::string_view id) const;
  absl::Status Kill(absl::string_view id, int signal) const;
  absl::Status Delete(absl::string_view id) const;

  // Parses `runtime state` output. Internal when it is not the expected
  // JSON.
  static absl::StatusOr<RuntimeState> ParseState(absl::string_view json_text);

 private:
  sys::Command CommandFor(const RuntimeCall& call) const;

  sys::Sys& sys_;
  const RuntimeHandler handler_;
  const std::vector<std::string> not_found_markers_;
};

// The messages in a runtime's output, one "; "-joined line: the `msg` of
// JSON log lines (runc's and crun's log.json) at level error or fatal, the
// msg="..." of logfmt lines (runc's stderr), and any other non-empty line
// as it is.
std::string ExtractRuntimeMessage(absl::string_view output);

}  // namespace podsandbox::oci

#endif  // PODSANDBOX_OCI_RUNTIME_CLI_H_
