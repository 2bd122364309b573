// podsandboxd's side of the fd keeper (keeper/server.h): hands it the fds
// that must outlive the daemon and takes them back after a restart.
//
// ConnectOrSpawn connects to the keeper of a socket path, starting one
// (keeper/main.cc: it listens, then detaches into its own session and
// its starter returns) when nothing answers. Callers treat any error as
// "no keeper": they log it and carry on without one.
//
// Thread-safe: one request at a time on the connection (a mutex), each a
// message and its reply. After the keeper went away every call fails with
// Unavailable; the client does not reconnect (the keeper's holdings died
// with it, so a new one would not have them).
#ifndef PODSANDBOX_KEEPER_CLIENT_H_
#define PODSANDBOX_KEEPER_CLIENT_H_

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
  // there; InvalidArgument for a path too long; Internal else.
  static absl::StatusOr<std::unique_ptr<Client>> Connect(
      const std::string& socket_path);

  // Connect, else runs `binary --socket <socket_path>` (its output appended
  // to `log_file`), which returns once the keeper listens, and connects.
  // The keeper is re-parented to the nearest subreaper (podsandboxd itself:
  // it is never claimed in the OrphanReaper, which reaps it when it exits).
  static absl::StatusOr<std::unique_ptr<Client>> ConnectOrSpawn(
      sys::Sys& sys, const std::string& socket_path, const std::string& binary,
      const std::string& log_file);

  // Hands `fds` (borrowed: the keeper gets copies) to be held under `key`,
  // replacing what it held there. InvalidArgument for no or too many fds.
  absl::Status Hold(absl::string_view key, const std::vector<int>& fds)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Copies of what `key` holds (the keeper still holds them), in the
  // order they were handed over. NotFound when it holds nothing there.
  absl::StatusOr<std::vector<sys::UniqueFd>> Take(absl::string_view key)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Closes what `key` holds. An unknown key succeeds.
  absl::Status Drop(absl::string_view key) ABSL_LOCKS_EXCLUDED(mu_);
  // Every key held.
  absl::StatusOr<std::vector<std::string>> Keys() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  explicit Client(sys::UniqueFd socket) : socket_(std::move(socket)) {}
  absl::StatusOr<Message> Call(const nlohmann::json& request,
                               const std::vector<int>& fds)
      ABSL_LOCKS_EXCLUDED(mu_);

  absl::Mutex mu_;
  sys::UniqueFd socket_ ABSL_GUARDED_BY(mu_);
};

}  // namespace podsandbox::keeper

#endif  // PODSANDBOX_KEEPER_CLIENT_H_
