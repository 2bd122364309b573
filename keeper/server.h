// podsandbox-keeper's server: holds file descriptors for podsandboxd so that
// they outlive it (a container's init pidfd and its FIFOs), with no process
// per pod or container: one keeper per node (per state dir).
//
// It only holds: fds handed over under a key (hold), copies handed back
// (take), closed on drop. It never reads or writes them, never waits for a
// process, and keeps nothing on disk: if it dies, what it held is gone and
// podsandboxd falls back to what it can see alone.
//
// One per socket path: Listen takes an exclusive flock on "<socket>.lock"
// before it replaces the socket file, so a second keeper stops there
// (AlreadyExists) and never steals the socket of a live one.
//
// Run serves until idle: nothing held and no client connected (after the
// first client came, or `first_client_wait` passed without one). So the
// keeper exits by itself once the daemon removed every container and went
// away, and a test leaves no keeper behind.
//
// A hold that would leave fewer than a few spare fds under RLIMIT_NOFILE
// (or whose fds the kernel dropped: MSG_CTRUNC) is refused with
// ResourceExhausted "keeper: N fds held, limit L"; what is held stays, and
// take, drop and keys are still served.
//
// Clients must run as our euid (SO_PEERCRED); the socket is 0600 in a
// directory the daemon keeps root-only. Single-threaded: Run blocks its
// caller; the object is not thread-safe.
#ifndef PODSANDBOX_KEEPER_SERVER_H_
#define PODSANDBOX_KEEPER_SERVER_H_

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "keeper/protocol.h"
#include "sys/sys.h"
#include "sys/unique_fd.h"

namespace podsandbox::keeper {

class Server {
 public:
  // Takes "<socket_path>.lock", replaces any stale socket file, binds
  // (0600) and listens. AlreadyExists when another keeper holds the lock;
  // InvalidArgument for a path too long for sockaddr_un; Internal else.
  static absl::StatusOr<std::unique_ptr<Server>> Listen(
      sys::Sys& sys, const std::string& socket_path,
      absl::Duration first_client_wait);

  // Serves until idle (see above). Internal if poll fails.
  absl::Status Run();

  size_t held_keys() const { return held_.size(); }

 private:
  Server(sys::Sys& sys, sys::UniqueFd lock, sys::UniqueFd listener,
         absl::Duration first_client_wait)
      : sys_(sys),
        lock_(std::move(lock)),
        listener_(std::move(listener)),
        first_client_wait_(first_client_wait) {}

  void Accept();
  // Serves one request of `client`; false when the client is gone.
  bool Serve(int client);
  absl::StatusOr<nlohmann::json> Handle(Message& request,
                                        std::vector<int>* reply_fds);
  // The reply to {"op":"keys","after":K,"limit":N} (protocol.h).
  absl::StatusOr<nlohmann::json> KeysPage(const nlohmann::json& body) const;
  // ResourceExhausted "keeper: N fds held, limit L" (and `detail`).
  absl::Status FdsExhausted(absl::string_view detail) const;

  sys::Sys& sys_;
  sys::UniqueFd lock_;  // held while we live
  sys::UniqueFd listener_;
  const absl::Duration first_client_wait_;
  bool had_client_ = false;
  std::vector<sys::UniqueFd> clients_;
  std::map<std::string, std::vector<sys::UniqueFd>> held_;  // in key order
  size_t held_fds_ = 0;  // over every key of held_
};

}  // namespace podsandbox::keeper

#endif  // PODSANDBOX_KEEPER_SERVER_H_
