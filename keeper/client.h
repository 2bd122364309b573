// podsandboxd's side of the fd keeper (keeper/server.h): hands it the fds
// that must outlive the daemon and takes them back after a restart.
//
// ConnectOrSpawn connects to the keeper of a socket path, starting one
// (keeper/main.cc: it listens, then detaches into its own session and
// its starter returns) when nothing answers. Callers treat any error as
// "no keeper": they log it and carry on without one.
//
// Reconnects: a call that finds the connection gone (EPIPE, ECONNRESET,
// end of file: the keeper was killed, or exited idle just as we connected)
// connects again, starting a keeper when the client has a binary
// (ConnectOrSpawn), and sends its request once more. Every request can be
// sent twice: hold replaces what a key holds, drop of an unknown key
// succeeds, take and keys only read. What a dead keeper held is gone (a
// new one holds only what is handed to it afterwards); the reconnect is
// logged. A call that finds no connection (an earlier one failed) tries
// the same way. Any other failure (a reply timeout, a malformed reply)
// closes the connection and is returned, as Unavailable.
//
// Every socket call goes through the sys::Sys given, so tests can fail
// each one (keeper_test's fault loop).
//
// Thread-safe: one request at a time on the connection (a mutex), each a
// message and its reply. The reconnect, a keeper's start included, runs
// under the same mutex: one at a time, and calls that come meanwhile wait
// for its connection rather than starting keepers of their own.
#ifndef PODSANDBOX_KEEPER_CLIENT_H_
#define PODSANDBOX_KEEPER_CLIENT_H_

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "keeper/protocol.h"
#include "sys/sys.h"
#include "sys/unique_fd.h"

namespace podsandbox::keeper {

class Client {
 public:
  // Connects to the keeper at `socket_path`. Unavailable when none listens
  // there; InvalidArgument for a path too long; Internal else. A lost
  // connection is re-established by connecting only (no binary to start).
  // `sys` must outlive the client.
  static absl::StatusOr<std::unique_ptr<Client>> Connect(
      sys::Sys& sys, const std::string& socket_path);

  // Connect, else runs `binary --socket <socket_path>` (its output appended
  // to `log_file`), which returns once the keeper listens, and connects.
  // The keeper is re-parented to the nearest subreaper (podsandboxd itself:
  // it is never claimed in the OrphanReaper, which reaps it when it exits).
  // A lost connection is re-established the same way. Unavailable when no
  // keeper answers and none could be started; FailedPrecondition when
  // `binary` cannot be run.
  static absl::StatusOr<std::unique_ptr<Client>> ConnectOrSpawn(
      sys::Sys& sys, const std::string& socket_path, const std::string& binary,
      const std::string& log_file);

  // Hands `fds` (borrowed: the keeper gets copies) to be held under `key`,
  // replacing what it held there. InvalidArgument for no or too many fds;
  // Unavailable when no keeper could be reached.
  absl::Status Hold(absl::string_view key, const std::vector<int>& fds)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Copies of what `key` holds (the keeper still holds them), in the
  // order they were handed over. NotFound when it holds nothing there.
  absl::StatusOr<std::vector<sys::UniqueFd>> Take(absl::string_view key)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Closes what `key` holds. An unknown key succeeds.
  absl::Status Drop(absl::string_view key) ABSL_LOCKS_EXCLUDED(mu_);
  // Every key held, in byte order, asked for `page` at a time (the keeper
  // caps a page at 1024 keys and what fits a message).
  absl::StatusOr<std::vector<std::string>> Keys(size_t page = 1024)
      ABSL_LOCKS_EXCLUDED(mu_);

 private:
  Client(sys::Sys& sys, std::string socket_path, std::string binary,
         std::string log_file, sys::UniqueFd socket)
      : sys_(sys),
        socket_path_(std::move(socket_path)),
        binary_(std::move(binary)),
        log_file_(std::move(log_file)),
        socket_(std::move(socket)) {}

  // A connection to the keeper of `socket_path` (see Connect).
  static absl::StatusOr<sys::UniqueFd> Dial(sys::Sys& sys,
                                            const std::string& socket_path);
  // Dial, starting a keeper if none answers and `binary` is not empty.
  static absl::StatusOr<sys::UniqueFd> DialOrSpawn(
      sys::Sys& sys, const std::string& socket_path, const std::string& binary,
      const std::string& log_file);

  // Sends `request` and returns the reply, reconnecting once (see above).
  absl::StatusOr<Message> Call(const nlohmann::json& request,
                               const std::vector<int>& fds)
      ABSL_LOCKS_EXCLUDED(mu_);

  sys::Sys& sys_;
  const std::string socket_path_;
  const std::string binary_;  // empty: reconnect without starting a keeper
  const std::string log_file_;
  absl::Mutex mu_;
  sys::UniqueFd socket_ ABSL_GUARDED_BY(mu_);  // invalid: not connected
};

}  // namespace podsandbox::keeper

#endif  // PODSANDBOX_KEEPER_CLIENT_H_
