#include "cri/socket_activation.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/server_posix.h"
#include "sys/log.h"
#include "systemd/sd-daemon.h"

namespace podsandbox::cri {

absl::StatusOr<std::unique_ptr<ActivatedSocket>> TakeActivatedSocket(
    const std::string& path) {
  const int n = sd_listen_fds(/*unset_environment=*/1);
  if (n < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("socket activation: LISTEN_FDS: ", strerror(-n)));
  }
  if (n == 0) return nullptr;
  if (n > 1) {
    return absl::FailedPreconditionError(absl::StrCat(
        "socket activation: systemd passed ", n,
        " sockets; podsandboxd serves one (the unit's ListenStream)"));
  }
  const int fd = SD_LISTEN_FDS_START;
  if (sd_is_socket_unix(fd, SOCK_STREAM, /*listening=*/1, path.c_str(), 0) <=
      0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "socket activation: the socket systemd passed is not a listening "
        "unix stream socket on ",
        path, " (the listen setting); make the unit's ListenStream match"));
  }
  // Ours only: no runtime or plugin we exec may inherit it.
  if (fcntl(fd, F_SETFD, FD_CLOEXEC) != 0) {
    return absl::InternalError(
        absl::StrCat("socket activation: FD_CLOEXEC: ", strerror(errno)));
  }
  // poll then accept: a client gone in between must not block the loop.
  // (The flag is on the one socket systemd shares; systemd only polls it.)
  const int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) {
    return absl::InternalError(
        absl::StrCat("socket activation: O_NONBLOCK: ", strerror(errno)));
  }
  const int wake = eventfd(0, EFD_CLOEXEC);
  if (wake < 0) {
    return absl::InternalError(
        absl::StrCat("socket activation: eventfd: ", strerror(errno)));
  }
  return std::unique_ptr<ActivatedSocket>(new ActivatedSocket(fd, wake));
}

ActivatedSocket::~ActivatedSocket() {
  Stop();
  close(fd_);
  if (wake_fd_ >= 0) close(wake_fd_);
}

void ActivatedSocket::Serve(grpc::Server* server) {
  thread_ = std::thread([this, server] {
    struct pollfd fds[2] = {{fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    while (true) {
      if (poll(fds, 2, -1) < 0 && errno != EINTR) {
        PSB_LOG(kError, "poll on the activated socket: %s", strerror(errno));
        return;
      }
      if (fds[1].revents != 0) return;  // Stop
      if (fds[0].revents == 0) continue;
      // Non-blocking, as gRPC makes the connections it accepts itself.
      const int conn =
          accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
      if (conn >= 0) {
        // gRPC owns the connection from here, as if it had accepted it.
        grpc::AddInsecureChannelFromFd(server, conn);
        continue;
      }
      // The socket is non-blocking: EAGAIN is a client that left before
      // accept. Other errors (EMFILE) must not end serving either; they
      // are logged, and the next connection tries again.
      if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) {
        PSB_LOG(kWarning, "accept on the activated socket: %s",
                strerror(errno));
      }
    }
  });
}

void ActivatedSocket::Stop() {
  if (!thread_.joinable()) return;
  // An eventfd wakes the loop: shutdown(2) would also shut systemd's
  // socket (it is one socket), which must keep queueing for the next start.
  const uint64_t one = 1;
  (void)!write(wake_fd_, &one, sizeof(one));
  thread_.join();
}

}  // namespace podsandbox::cri
