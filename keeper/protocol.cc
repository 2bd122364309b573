#include "keeper/protocol.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace podsandbox::keeper {
namespace {

using json = nlohmann::json;

// Every absl code by name, for the reply's "code".
constexpr absl::StatusCode kCodes[] = {
    absl::StatusCode::kCancelled,          absl::StatusCode::kUnknown,
    absl::StatusCode::kInvalidArgument,    absl::StatusCode::kDeadlineExceeded,
    absl::StatusCode::kNotFound,           absl::StatusCode::kAlreadyExists,
    absl::StatusCode::kPermissionDenied,   absl::StatusCode::kResourceExhausted,
    absl::StatusCode::kFailedPrecondition, absl::StatusCode::kAborted,
    absl::StatusCode::kOutOfRange,         absl::StatusCode::kUnimplemented,
    absl::StatusCode::kInternal,           absl::StatusCode::kUnavailable,
    absl::StatusCode::kDataLoss,           absl::StatusCode::kUnauthenticated,
};

bool PeerGone(int err) {
  return err == EPIPE || err == ECONNRESET || err == ENOTCONN ||
         err == ECONNREFUSED;
}

// The Status of a failed sendmsg or recvmsg (`what`), in the classes the
// header promises: only a lost peer is Unavailable (absl's own mapping
// would make a timeout's EAGAIN Unavailable too, and the client would
// retry a hung keeper).
absl::Status SocketError(int err, absl::string_view what) {
  if (PeerGone(err)) {
    return absl::UnavailableError(
        absl::StrCat("keeper ", what, ": peer gone: ", std::strerror(err)));
  }
  if (err == EAGAIN || err == EWOULDBLOCK) {
    return absl::DeadlineExceededError(
        absl::StrCat("keeper ", what, ": no reply in time"));
  }
  return absl::InternalError(
      absl::StrCat("keeper ", what, ": ", std::strerror(err)));
}

}  // namespace

absl::Status SendMessage(sys::Sys& sys, int socket, const json& body,
                         const std::vector<int>& fds) {
  if (fds.size() > kMaxFds) {
    return absl::InvalidArgumentError(absl::StrCat(
        "keeper message: ", fds.size(), " fds, at most ", kMaxFds));
  }
  std::string text = body.dump();
  if (text.size() > kMaxMessageBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "keeper message: ", text.size(), " bytes, at most ", kMaxMessageBytes));
  }
  struct iovec iov = {text.data(), text.size()};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)];
  if (!fds.empty()) {
    std::memset(control, 0, sizeof(control));
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
    struct cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(cmsg), fds.data(), sizeof(int) * fds.size());
  }
  for (;;) {
    // MSG_NOSIGNAL: a peer that died must not kill us with SIGPIPE.
    sys::SysResult sent = sys.Sendmsg(socket, &msg, MSG_NOSIGNAL);
    if (sent.ok()) return absl::OkStatus();
    if (sent.err == EINTR) continue;
    return SocketError(sent.err, "sendmsg");
  }
}

absl::StatusOr<Message> ReceiveMessage(sys::Sys& sys, int socket) {
  std::string text(kMaxMessageBytes, '\0');
  struct iovec iov = {text.data(), text.size()};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)];
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  sys::SysResult received;
  do {
    received = sys.Recvmsg(socket, &msg, MSG_CMSG_CLOEXEC);
  } while (received.err == EINTR);
  if (!received.ok()) return SocketError(received.err, "recvmsg");
  const size_t n = static_cast<size_t>(received.value);
  Message out;
  // Own whatever fds came before judging the message, so none leaks.
  for (struct cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr;
       c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
      out.fds.emplace_back(fd);
    }
  }
  if (n == 0 && out.fds.empty()) {
    return absl::UnavailableError("keeper receive: peer closed");
  }
  if ((msg.msg_flags & MSG_TRUNC) != 0) {
    return absl::InvalidArgumentError("keeper message: truncated (too long)");
  }
  if ((msg.msg_flags & MSG_CTRUNC) != 0) {
    // The kernel could not install every fd: ours are at RLIMIT_NOFILE
    // (or the sender attached more than kMaxFds). Those that came are
    // closed with `out`.
    return absl::ResourceExhaustedError(
        "keeper message: fds lost in transit (receiver at its fd limit, or "
        "more than kMaxFds)");
  }
  text.resize(n);
  out.body = json::parse(text, nullptr, false);
  if (out.body.is_discarded() || !out.body.is_object()) {
    return absl::InvalidArgumentError("keeper message: not a JSON object");
  }
  return out;
}

json ReplyFor(const absl::Status& status) {
  if (status.ok()) return json{{"ok", true}};
  return json{{"ok", false},
              {"code", absl::StatusCodeToString(status.code())},
              {"error", std::string(status.message())}};
}

absl::Status StatusOfReply(const json& reply) {
  auto ok = reply.find("ok");
  if (ok == reply.end() || !ok->is_boolean()) {
    return absl::InternalError("keeper reply: no \"ok\"");
  }
  if (ok->get<bool>()) return absl::OkStatus();
  std::string error = "keeper: failed";
  if (auto e = reply.find("error"); e != reply.end() && e->is_string()) {
    error = e->get<std::string>();
  }
  absl::StatusCode code = absl::StatusCode::kInternal;
  if (auto c = reply.find("code"); c != reply.end() && c->is_string()) {
    for (absl::StatusCode known : kCodes) {
      if (absl::StatusCodeToString(known) == c->get<std::string>()) {
        code = known;
      }
    }
  }
  return absl::Status(code, error);
}

}  // namespace podsandbox::keeper
