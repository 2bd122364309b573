// systemd socket activation for podsandboxd's CRI socket: when started by
// podsandboxd.socket (or systemd-socket-activate), systemd has already
// bound and listens on the socket and hands it over as fd 3 (LISTEN_FDS,
// sd_listen_fds(3)). gRPC's server cannot adopt a listening socket, so an
// accept loop here takes each connection and gives it to the server with
// grpc::AddInsecureChannelFromFd, the one way gRPC serves a socket it did
// not create.
//
// What activation buys on a node: the socket exists before the daemon
// (kubelet may start first), and it outlives a restart, so connections
// queue instead of failing while the daemon recovers.
//
// Thread-safety: TakeActivatedSocket once from main; Serve and Stop from
// one thread.
#ifndef PODSANDBOX_CRI_SOCKET_ACTIVATION_H_
#define PODSANDBOX_CRI_SOCKET_ACTIVATION_H_

#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "grpcpp/grpcpp.h"

namespace podsandbox::cri {

class ActivatedSocket {
 public:
  ~ActivatedSocket();
  ActivatedSocket(const ActivatedSocket&) = delete;
  ActivatedSocket& operator=(const ActivatedSocket&) = delete;

  // Accepts connections on a thread of its own and hands each to `server`
  // (which must outlive Stop). Call once.
  void Serve(grpc::Server* server);

  // Stops accepting and waits for the thread. The socket itself stays
  // listening (systemd holds it and queues connections for the next
  // start); the destructor closes our descriptor of it.
  void Stop();

 private:
  friend absl::StatusOr<std::unique_ptr<ActivatedSocket>> TakeActivatedSocket(
      const std::string& path);
  ActivatedSocket(int fd, int wake_fd) : fd_(fd), wake_fd_(wake_fd) {}

  const int fd_;       // the listening socket systemd passed
  const int wake_fd_;  // an eventfd Stop writes to end the accept loop
  std::thread thread_;
};

// The socket systemd passed, if any: nullptr when we were not socket
// activated (no LISTEN_FDS for our pid), so the caller binds `path` itself.
// Unsets LISTEN_FDS and friends, so children (runtimes, plugins) never see
// them. FailedPrecondition when systemd passed more than one socket or one
// that is not a listening unix stream socket bound to `path` (the unit and
// the config disagree).
absl::StatusOr<std::unique_ptr<ActivatedSocket>> TakeActivatedSocket(
    const std::string& path);

}  // namespace podsandbox::cri

#endif  // PODSANDBOX_CRI_SOCKET_ACTIVATION_H_
